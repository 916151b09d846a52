/*
 * assayctl.c — the admin and offline tool: global options (verifier
 * address, admin certificate, --json) and the command table.
 */
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/err.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "tools/admin.h"
#include "tools/certs.h"
#include "tools/eventlog_cmd.h"
#include "tools/ima_cmd.h"
#include "tools/policy_cmd.h"
#include "tools/policy_mb_cmd.h"
#include "tools/quote_cmd.h"

#define CTL(f) offsetof(struct ctl, f)

static const struct cfg_key ctl_keys[] = {
	{ "verifier", CFG_STR, CTL(verifier), 0, 0, "verifier address host:port" },
	{ "verifier_name", CFG_STR, CTL(verifier_name), 0, 0, "CN of the verifier certificate (default verifier)" },
	{ "tls.cert", CFG_STR, CTL(cert), 0, 0, "admin certificate (OU=admin)" },
	{ "tls.key", CFG_STR, CTL(key), 0, 0, "its key" },
	{ "tls.ca", CFG_STR, CTL(ca), 0, 0, "CA of the verifier's certificate" },
	{ NULL, 0, 0, 0, 0, NULL }
};

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: assayctl [-c FILE] [--verifier HOST:PORT] [--verifier-name CN]\n"
	    "                [--cert F --key F --ca F]\n"
	    "                [--json] COMMAND ...\n"
	    "commands:\n"
	    "  agents list [--state S] | show ID | admit ID --policy P [--address H:P]\n"
	    "         [--interval S] | delete ID | attest ID | reset ID | stop ID |\n"
	    "         start ID | events ID [--limit N]\n"
	    "  policy list | upload NAME FILE | show NAME | delete NAME\n"
	    "  policy generate --name N [--bank ALG] [--exclude GLOB]... [--root DIR]...\n"
	    "         [--ima-list FILE [--ascii] [--thash ALG]] [-o OUT]\n"
	    "  policy import-keylime FILE [--name N] [-o OUT]\n"
	    "  policy from-eventlog FILE [--name N] [--bank ALG] [-o OUT]\n"
	    "  ima replay [--bank ALG] [--ascii] [--template-hash-alg ALG] FILE\n"
	    "  ima check --policy P.yaml [--ascii] [--thash ALG] FILE\n"
	    "  eventlog show FILE [--json] | eventlog replay FILE --json\n"
	    "  status [ID]      which hosts are not trusted, or why one is in its state\n"
	    "  health\n"
	    "  certs init DIR [--verifier-cn NAME] [--agent NAME ...] [--days D]\n"
	    "  quote verify --ak AK.pem --nonce HEX --message Q.msg --signature Q.sig\n"
	    "         --pcrs Q.pcrs\n"
	    "  evidence verify --ak AK.tpm2b [--ek EK.tpm2b] --nonce HEX --pcrs SEL\n"
	    "         [--policy P] DOC.json   (exit 0 ok, 1 failed, 3 inconclusive)\n"
	    "environment: ASSAY_VERIFIER, ASSAY_VERIFIER_NAME, ASSAY_CERT, ASSAY_KEY,\n"
	    "             ASSAY_CA, ASSAYCTL_CONFIG; every option: assayctl(1)\n");
	exit(2);
}

static void
set(char **dst, const char *v)
{
	if (v == NULL)
		return;
	free(*dst);
	*dst = xstrdup(v);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "verifier", required_argument, NULL, 'V' },
		{ "verifier-name", required_argument, NULL, 'N' },
		{ "cert", required_argument, NULL, 'C' },
		{ "key", required_argument, NULL, 'K' },
		{ "ca", required_argument, NULL, 'A' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ctl c = { .timeout = 30 };
	const char *conf = getenv("ASSAYCTL_CONFIG");
	char *o_verifier = NULL, *o_name = NULL, *o_cert = NULL, *o_key = NULL, *o_ca = NULL;
	int ch, r;

	log_init("assayctl", -1);
	while ((ch = getopt_long(argc, argv, "+c:jh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': conf = optarg; break;
		case 'V': o_verifier = optarg; break;
		case 'N': o_name = optarg; break;
		case 'C': o_cert = optarg; break;
		case 'K': o_key = optarg; break;
		case 'A': o_ca = optarg; break;
		case 'j': c.json = 1; break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	if (conf != NULL && config_load(conf, ctl_keys, &c) != 0) {
		fprintf(stderr, "assayctl: %s\n", assay_err_detail());
		return 2;
	}
	set(&c.verifier, getenv("ASSAY_VERIFIER"));
	set(&c.cert, getenv("ASSAY_CERT"));
	set(&c.key, getenv("ASSAY_KEY"));
	set(&c.ca, getenv("ASSAY_CA"));
	set(&c.verifier, o_verifier);
	set(&c.verifier_name, getenv("ASSAY_VERIFIER_NAME"));
	set(&c.verifier_name, o_name);
	set(&c.cert, o_cert);
	set(&c.key, o_key);
	set(&c.ca, o_ca);

	if (strcmp(argv[0], "agents") == 0 || strcmp(argv[0], "agent") == 0)
		r = cmd_agents(&c, argc - 1, argv + 1);
	else if ((strcmp(argv[0], "policy") == 0 || strcmp(argv[0], "policies") == 0) &&
	    argc > 1 && strcmp(argv[1], "from-eventlog") == 0)
		r = cmd_policy_from_eventlog(argc - 1, argv + 1);
	else if ((strcmp(argv[0], "policy") == 0 || strcmp(argv[0], "policies") == 0) &&
	    argc > 1 && (strcmp(argv[1], "generate") == 0 ||
	    strcmp(argv[1], "import-keylime") == 0))
		r = cmd_policy_offline(argc - 1, argv + 1);
	else if (strcmp(argv[0], "policy") == 0 || strcmp(argv[0], "policies") == 0)
		r = cmd_policy(&c, argc - 1, argv + 1);
	else if (strcmp(argv[0], "ima") == 0 && argc > 1 && strcmp(argv[1], "check") == 0)
		r = cmd_ima_check(argc - 1, argv + 1);
	else if (strcmp(argv[0], "ima") == 0)
		r = cmd_ima(argc - 1, argv + 1);
	else if (strcmp(argv[0], "eventlog") == 0)
		r = cmd_eventlog(argc - 1, argv + 1);
	else if (strcmp(argv[0], "status") == 0)
		r = cmd_status(&c, argc - 1, argv + 1);
	else if (strcmp(argv[0], "health") == 0)
		r = cmd_health(&c, argc - 1, argv + 1);
	else if (strcmp(argv[0], "certs") == 0)
		r = cmd_certs(argc - 1, argv + 1);
	else if (strcmp(argv[0], "quote") == 0)
		r = cmd_quote(argc - 1, argv + 1);
	else if (strcmp(argv[0], "evidence") == 0)
		r = cmd_evidence(argc - 1, argv + 1);
	else
		usage();
	config_free(ctl_keys, &c);
	return r;
}
