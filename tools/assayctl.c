/*
 * assayctl.c — the admin and offline tool's main: global options
 * (verifier address, admin certificate, --json), the config file and
 * environment behind them, then cmd_run() with the command table of
 * cmd.c.
 */
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/config.h"
#include "common/err.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "tools/cmd.h"

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
	cmd_usage_all(stderr);
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

	r = cmd_run(&c, argc, argv);
	config_free(ctl_keys, &c);
	return r;
}
