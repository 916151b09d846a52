/*
 * cmd.c — assayctl's command table and the code every command shares:
 * finding the row for the command words, parsing its options with
 * getopt_long into a struct cmd_args, checking positional counts and
 * required options, checking the verifier settings of the rows that need
 * them, the usage text (per row and global, both from the table) and the
 * input-file loader. Handlers only read struct cmd_args.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/fileio.h"
#include "common/xmalloc.h"
#include "tools/admin.h"
#include "tools/audit_cmd.h"
#include "tools/certs.h"
#include "tools/cmd.h"
#include "tools/eventlog_cmd.h"
#include "tools/evidence_cmd.h"
#include "tools/ima_cmd.h"
#include "tools/policy_cmd.h"
#include "tools/policy_mb_cmd.h"
#include "tools/policy_sign_cmd.h"
#include "tools/quote_cmd.h"

#define ARG	required_argument
#define NOARG	no_argument
#define REQ	CO_REQUIRED
#define OPTS(...)	((const struct cmd_opt[]){ __VA_ARGS__, { NULL, 0, 0, 0, 0 } })

/* Value of a long option without a short form: index + OPT_VAL_BASE. */
#define OPT_VAL_BASE	0x100
#define OPT_HELP	'h'

#define USAGE_COLS	78
#define USAGE_INDENT	"           "

/* Group names and their aliases; the default sub-command of a bare group. */
static const struct {
	const char	*name, *alias, *dflt;
} groups[] = {
	{ "agents", "agent", "list" },
	{ "policy", "policies", "list" },
};

static const struct cmd cmds[] = {
	{ { "agents", "list" }, "[--state S]",
	    OPTS({ "state", ARG, OPT_STATE, 0, 0 }),
	    0, 0, CMD_VERIFIER, cmd_agents_list },
	{ { "agents", "show" }, "ID", NULL, 1, 1, CMD_VERIFIER, cmd_agents_show },
	{ { "agents", "admit" }, "ID --policy P [--address H:P] [--interval S]",
	    OPTS({ "policy", ARG, OPT_POLICY, 0, 0 },
	    { "address", ARG, OPT_ADDRESS, 0, 0 },
	    { "interval", ARG, OPT_INTERVAL, 0, 0 }),
	    1, 1, CMD_VERIFIER, cmd_agents_admit },
	{ { "agents", "delete" }, "ID", NULL, 1, 1, CMD_VERIFIER, cmd_agents_delete },
	{ { "agents", "attest" }, "ID", NULL, 1, 1, CMD_VERIFIER, cmd_agents_post },
	{ { "agents", "reset" }, "ID", NULL, 1, 1, CMD_VERIFIER, cmd_agents_post },
	{ { "agents", "stop" }, "ID", NULL, 1, 1, CMD_VERIFIER, cmd_agents_post },
	{ { "agents", "start" }, "ID", NULL, 1, 1, CMD_VERIFIER, cmd_agents_post },
	{ { "agents", "events" }, "ID [--limit N]",
	    OPTS({ "limit", ARG, OPT_LIMIT, 0, 0 }),
	    1, 1, CMD_VERIFIER, cmd_agents_events },
	{ { "policy", "list" }, "", NULL, 0, 0, CMD_VERIFIER, cmd_policy_list },
	{ { "policy", "upload" }, "NAME FILE [--canary ID,ID...]",
	    OPTS({ "canary", ARG, OPT_CANARY, 0, 0 }), 2, 2, CMD_VERIFIER,
	    cmd_policy_upload },
	{ { "policy", "versions" }, "NAME", NULL, 1, 1, CMD_VERIFIER,
	    cmd_policy_versions },
	{ { "policy", "rollback" }, "NAME VERSION", NULL, 2, 2, CMD_VERIFIER,
	    cmd_policy_rollback },
	{ { "policy", "promote" }, "NAME", NULL, 1, 1, CMD_VERIFIER,
	    cmd_policy_promote },
	{ { "policy", "preview" }, "NAME FILE", NULL, 2, 2, CMD_VERIFIER,
	    cmd_policy_preview },
	{ { "policy", "show" }, "NAME", NULL, 1, 1, CMD_VERIFIER, cmd_policy_show },
	{ { "policy", "delete" }, "NAME", NULL, 1, 1, CMD_VERIFIER,
	    cmd_policy_delete },
	{ { "policy", "generate" }, "--name N [--bank ALG] [--exclude GLOB]... "
	    "[--root DIR]... [--ima-list FILE [--ascii]] [--thash ALG] "
	    "[--deb FILE.deb]... [--build DIR --package NAME --pkg-version V "
	    "[--prefix /usr/local]] [--merge OLD.yaml] [--keep N] [-o OUT]",
	    OPTS({ "name", ARG, OPT_NAME, 0, 0 },
	    { "bank", ARG, OPT_BANK, 0, 0 },
	    { "exclude", ARG, OPT_EXCLUDE, 0, 0 },
	    { "root", ARG, OPT_ROOT, 0, 0 },
	    { "ima-list", ARG, OPT_IMA_LIST, 0, 0 },
	    { "ascii", NOARG, OPT_ASCII, 0, 0 },
	    { "thash", ARG, OPT_THASH, 0, 0 },
	    { "deb", ARG, OPT_DEB, 0, 0 },
	    { "build", ARG, OPT_BUILD, 0, 0 },
	    { "prefix", ARG, OPT_PREFIX, 0, 0 },
	    { "package", ARG, OPT_PACKAGE, 0, 0 },
	    { "pkg-version", ARG, OPT_PKG_VERSION, 0, 0 },
	    { "merge", ARG, OPT_MERGE, 0, 0 },
	    { "keep", ARG, OPT_KEEP, 0, 0 },
	    { "output", ARG, OPT_OUTPUT, 0, 'o' }),
	    0, 0, 0, cmd_policy_generate },
	{ { "policy", "import-keylime" }, "FILE [--name N] [-o OUT]",
	    OPTS({ "name", ARG, OPT_NAME, 0, 0 },
	    { "output", ARG, OPT_OUTPUT, 0, 'o' }),
	    1, 1, 0, cmd_policy_import_keylime },
	{ { "policy", "from-eventlog" },
	    "FILE [--name N] [--bank sha1|sha256|sha384|sha512] [-o OUT]",
	    OPTS({ "name", ARG, OPT_NAME, 0, 0 },
	    { "bank", ARG, OPT_BANK, 0, 0 },
	    { "output", ARG, OPT_OUTPUT, 0, 'o' }),
	    1, 1, 0, cmd_policy_from_eventlog },
	{ { "policy", "sign" }, "--key KEY.pem [--cert LEAF.pem "
	    "[--chain CHAIN.pem]] [--name N] POLICY.yaml [-o OUT]",
	    OPTS({ "key", ARG, OPT_KEY, REQ, 0 },
	    { "cert", ARG, OPT_CERT, 0, 0 },
	    { "chain", ARG, OPT_CHAIN, 0, 0 },
	    { "name", ARG, OPT_NAME, 0, 0 },
	    { "output", ARG, OPT_OUTPUT, 0, 'o' }),
	    1, 1, 0, cmd_policy_sign },
	{ { "policy", "verify" }, "--signer PEM [--signer PEM]... [--name N] "
	    "ENVELOPE [-o POLICY_OUT]",
	    OPTS({ "signer", ARG, OPT_SIGNER, REQ, 0 },
	    { "name", ARG, OPT_NAME, 0, 0 },
	    { "output", ARG, OPT_OUTPUT, 0, 'o' }),
	    1, 1, 0, cmd_policy_verify },
	{ { "ima", "replay" },
	    "[--bank ALG] [--ascii] [--template-hash-alg ALG] FILE",
	    OPTS({ "bank", ARG, OPT_BANK, 0, 'b' },
	    { "ascii", NOARG, OPT_ASCII, 0, 'a' },
	    { "template-hash-alg", ARG, OPT_TEMPLATE_HASH, 0, 't' }),
	    1, 1, 0, cmd_ima_replay },
	{ { "ima", "check" }, "--policy P.yaml [--ascii] [--thash ALG] FILE",
	    OPTS({ "policy", ARG, OPT_POLICY, REQ, 0 },
	    { "ascii", NOARG, OPT_ASCII, 0, 0 },
	    { "thash", ARG, OPT_THASH, 0, 0 }),
	    1, 1, 0, cmd_ima_check },
	{ { "eventlog", "show" }, "FILE [--json]",
	    OPTS({ "json", NOARG, OPT_JSON, 0, 'j' }),
	    1, 1, 0, cmd_eventlog_show },
	{ { "eventlog", "replay" }, "FILE [--json]",
	    OPTS({ "json", NOARG, OPT_JSON, 0, 'j' }),
	    1, 1, 0, cmd_eventlog_replay },
	{ { "audit", "export" }, "--agent ID [--since T] [--limit N] [-o FILE] "
	    "(T: unix seconds, ISO 8601 UTC, or a duration ago like 2h; N: "
	    "records per request)",
	    OPTS({ "agent", ARG, OPT_AGENT, REQ, 0 },
	    { "since", ARG, OPT_SINCE, 0, 0 },
	    { "limit", ARG, OPT_LIMIT, 0, 0 },
	    { "output", ARG, OPT_OUTPUT, 0, 'o' }),
	    0, 0, CMD_VERIFIER, cmd_audit_export },
	{ { "audit", "verify" }, "FILE (exit 0 all checks pass, 1 a problem)",
	    NULL, 1, 1, 0, cmd_audit_verify },
	{ { "status", NULL }, "[ID]", NULL, 0, 1, CMD_VERIFIER, cmd_status },
	{ { "health", NULL }, "", NULL, 0, 0, CMD_VERIFIER, cmd_health },
	{ { "nodes", NULL }, "", NULL, 0, 0, CMD_VERIFIER, cmd_nodes },
	{ { "certs", "init" }, "DIR [--verifier-cn NAME] "
	    "[--agents N | --agent NAME ...] [--days D] [--force]",
	    OPTS({ "verifier-cn", ARG, OPT_VERIFIER_CN, 0, 0 },
	    { "agents", ARG, OPT_AGENTS, 0, 0 },
	    { "agent", ARG, OPT_AGENT, 0, 0 },
	    { "days", ARG, OPT_DAYS, 0, 0 },
	    { "force", NOARG, OPT_FORCE, 0, 0 }),
	    1, 1, 0, cmd_certs_init },
	{ { "quote", "verify" }, "--ak AK.pem|AK.pub [--ak-tpm2b] "
	    "[--ek-pub EK.pub] --nonce HEX --message Q.msg --signature Q.sig "
	    "--pcrs Q.pcrs [--pcr-select SEL]",
	    OPTS({ "ak", ARG, OPT_AK, REQ, 0 },
	    { "ak-tpm2b", NOARG, OPT_AK_TPM2B, 0, 0 },
	    { "ek-pub", ARG, OPT_EK_PUB, 0, 0 },
	    { "nonce", ARG, OPT_NONCE, REQ, 0 },
	    { "message", ARG, OPT_MESSAGE, REQ, 0 },
	    { "signature", ARG, OPT_SIGNATURE, REQ, 0 },
	    { "pcrs", ARG, OPT_PCRS, REQ, 0 },
	    { "pcr-select", ARG, OPT_PCR_SELECT, 0, 0 }),
	    0, 0, 0, cmd_quote_verify },
	{ { "evidence", "verify" }, "--ak AK.tpm2b [--ek EK.tpm2b] --nonce HEX "
	    "--pcrs SEL [--policy P.yaml] EVIDENCE.json "
	    "(exit 0 ok, 1 failed, 3 inconclusive)",
	    OPTS({ "ak", ARG, OPT_AK, REQ, 0 },
	    { "ek", ARG, OPT_EK, 0, 0 },
	    { "nonce", ARG, OPT_NONCE, REQ, 0 },
	    { "pcrs", ARG, OPT_PCRS, REQ, 0 },
	    { "policy", ARG, OPT_POLICY, 0, 0 }),
	    1, 1, 0, cmd_evidence_verify },
};

#define NCMDS	(sizeof(cmds) / sizeof(cmds[0]))
#define NGROUPS	(sizeof(groups) / sizeof(groups[0]))

/* Length of the word at s: up to a space outside [...]. */
static size_t
usage_word(const char *s)
{
	size_t n;
	int depth = 0;

	for (n = 0; s[n] != '\0' && (s[n] != ' ' || depth > 0); n++) {
		if (s[n] == '[')
			depth++;
		else if (s[n] == ']' && depth > 0)
			depth--;
	}
	return n;
}

/*
 * lead, then the row's words and usage, wrapped before USAGE_COLS at
 * spaces outside brackets.
 */
static void
row_usage(FILE *f, const char *lead, const char *indent, const struct cmd *c)
{
	char *line, *w;
	size_t col = strlen(lead), n;
	int first = 1;

	line = xasprintf("%s %s %s", c->words[0],
	    c->words[1] != NULL ? c->words[1] : "", c->usage);
	fputs(lead, f);
	for (w = line; *w != '\0'; w += n) {
		w += strspn(w, " ");
		if ((n = usage_word(w)) == 0)
			break;
		if (!first && col + 1 + n > USAGE_COLS) {
			fprintf(f, "\n%s", indent);
			col = strlen(indent);
		} else if (!first) {
			fputc(' ', f);
			col++;
		}
		fprintf(f, "%.*s", (int)n, w);
		col += n;
		first = 0;
	}
	fputc('\n', f);
	free(line);
}

void
cmd_usage_all(FILE *f)
{
	size_t i;

	fputs("usage: assayctl [-c FILE] [--verifier HOST:PORT] "
	    "[--verifier-name CN]\n"
	    "                [--cert F --key F --ca F]\n"
	    "                [--json] COMMAND ...\n"
	    "commands:\n", f);
	for (i = 0; i < NCMDS; i++)
		row_usage(f, "  ", "      ", &cmds[i]);
	fputs("environment: ASSAY_VERIFIER, ASSAY_VERIFIER_NAME, ASSAY_CERT, "
	    "ASSAY_KEY,\n"
	    "             ASSAY_CA, ASSAYCTL_CONFIG; every option: assayctl(1)\n",
	    f);
}

int
cmd_usage(const struct cmd_args *a)
{
	row_usage(stderr, "usage: assayctl ", USAGE_INDENT, a->cmd);
	return 2;
}

/* Every row of a group, for a missing or unknown sub-command. */
static int
group_usage(const char *group)
{
	const char *lead = "usage: assayctl ";
	size_t i;

	for (i = 0; i < NCMDS; i++) {
		if (strcmp(cmds[i].words[0], group) != 0)
			continue;
		row_usage(stderr, lead, USAGE_INDENT, &cmds[i]);
		lead = "       assayctl ";
	}
	return 2;
}

const char *
cmd_str(const struct cmd_args *a, enum opt_slot s)
{
	return a->opt[s].last;
}

int
cmd_flag(const struct cmd_args *a, enum opt_slot s)
{
	return a->opt[s].last != NULL;
}

int
cmd_load(const char *path, size_t max, uint8_t **out, size_t *len)
{
	int r;

	if ((r = file_read_all(path, max, out, len)) != 0)
		fprintf(stderr, "assayctl: %s\n", assay_err_detail());
	return r;
}

/*
 * The row for argv (group aliases resolved); *nwords says how many of
 * argv were command words. NULL: no such command (usage printed).
 */
static const struct cmd *
cmd_find(int argc, char **argv, int *nwords)
{
	const char *w0 = argv[0], *w1 = argc > 1 ? argv[1] : NULL;
	size_t i;

	for (i = 0; i < NGROUPS; i++) {
		if (strcmp(w0, groups[i].alias) == 0)
			w0 = groups[i].name;
		if (strcmp(w0, groups[i].name) == 0 && w1 == NULL)
			w1 = groups[i].dflt;
	}
	for (i = 0; i < NCMDS; i++) {
		if (strcmp(cmds[i].words[0], w0) != 0)
			continue;
		if (cmds[i].words[1] == NULL) {
			*nwords = 1;
			return &cmds[i];
		}
		if (w1 != NULL && strcmp(cmds[i].words[1], w1) == 0) {
			*nwords = argc > 1 ? 2 : 1;
			return &cmds[i];
		}
	}
	for (i = 0; i < NCMDS; i++)
		if (strcmp(cmds[i].words[0], w0) == 0) {
			group_usage(w0);
			return NULL;
		}
	cmd_usage_all(stderr);
	return NULL;
}

static void
args_add(struct cmd_val *v, const char *s)
{
	v->v = xreallocarray(v->v, v->n + 1, sizeof(*v->v));
	v->v[v->n++] = s;
	v->last = s;
}

static void
args_free(struct cmd_args *a)
{
	size_t i;

	for (i = 0; i < OPT_MAX; i++)
		free(a->opt[i].v);
}

/* The row's options as getopt_long wants them, plus --help/-h. */
static struct option *
getopt_table(const struct cmd_opt *o, char *optstr, size_t optlen)
{
	struct option *lo;
	size_t i, n = 0, k = 0;

	while (o != NULL && o[n].name != NULL)
		n++;
	lo = xcalloc(n + 2, sizeof(*lo));
	for (i = 0; i < n; i++) {
		lo[i].name = o[i].name;
		lo[i].has_arg = o[i].has_arg;
		lo[i].val = o[i].shortopt != 0 ? o[i].shortopt :
		    OPT_VAL_BASE + (int)i;
		if (o[i].shortopt == 0 || k + 3 >= optlen)
			continue;	/* (the table has room for every -x) */
		optstr[k++] = (char)o[i].shortopt;
		if (o[i].has_arg == required_argument)
			optstr[k++] = ':';
	}
	optstr[k++] = OPT_HELP;
	optstr[k] = '\0';
	lo[n].name = "help";
	lo[n].val = OPT_HELP;
	return lo;
}

static int
opt_index(const struct cmd_opt *o, int ch)
{
	int i;

	if (ch >= OPT_VAL_BASE)
		return ch - OPT_VAL_BASE;
	for (i = 0; o != NULL && o[i].name != NULL; i++)
		if (o[i].shortopt == ch)
			return i;
	return -1;
}

/*
 * Fill a from argv (argv[0] is the last command word). Returns 0, or 2
 * after printing the row's usage.
 */
static int
args_parse(const struct cmd *c, int argc, char **argv, struct cmd_args *a)
{
	const struct cmd_opt *o = c->opts;
	struct option *lo;
	char optstr[64];
	int ch, i, r = 2;

	lo = getopt_table(o, optstr, sizeof(optstr));
	optind = 0;	/* full reset: the main getopt ran in "+" mode */
	while ((ch = getopt_long(argc, argv, optstr, lo, NULL)) != -1) {
		if ((i = opt_index(o, ch)) < 0)
			goto out;
		args_add(&a->opt[o[i].slot], optarg != NULL ? optarg : "");
	}
	a->pos = argv + optind;
	a->npos = argc - optind;
	if (a->npos < c->minpos || a->npos > c->maxpos)
		goto out;
	for (i = 0; o != NULL && o[i].name != NULL; i++)
		if ((o[i].flags & CO_REQUIRED) && a->opt[o[i].slot].last == NULL)
			goto out;
	r = 0;
 out:
	free(lo);
	if (r != 0)
		cmd_usage(a);
	return r;
}

static int
verifier_set(const struct ctl *c)
{
	if (c != NULL && c->verifier != NULL && c->cert != NULL &&
	    c->key != NULL && c->ca != NULL)
		return 1;
	fprintf(stderr, "assayctl: set --verifier, --cert, --key and --ca "
	    "(or ASSAY_VERIFIER, ASSAY_CERT, ASSAY_KEY, ASSAY_CA)\n");
	return 0;
}

int
cmd_run(struct ctl *ctl, int argc, char **argv)
{
	struct cmd_args a;
	int nw, r;

	if (argc < 1) {
		cmd_usage_all(stderr);
		return 2;
	}
	memset(&a, 0, sizeof(a));
	if ((a.cmd = cmd_find(argc, argv, &nw)) == NULL)
		return 2;
	if ((r = args_parse(a.cmd, argc - nw + 1, argv + nw - 1, &a)) != 0)
		goto out;
	if (a.cmd->flags & CMD_VERIFIER) {
		if (!verifier_set(ctl)) {
			r = 2;
			goto out;
		}
		a.ctl = ctl;
	}
	r = a.cmd->run(&a);
 out:
	args_free(&a);
	return r;
}
