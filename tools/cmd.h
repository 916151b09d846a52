/*
 * cmd.h — assayctl's command table and what a command handler sees: the
 * verifier connection settings, the options a row accepts, the parsed
 * arguments, the one dispatcher (cmd_run) and the one input-file loader
 * (cmd_load). The table itself is in cmd.c; handlers live in the
 * per-command modules (admin.c, certs.c, eventlog_cmd.c, ...).
 */
#ifndef ASSAY_CMD_H
#define ASSAY_CMD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Connection settings of the commands that talk to the verifier. */
struct ctl {
	char	*verifier;	/* host:port */
	char	*verifier_name;	/* expected CN of the verifier certificate */
	char	*cert, *key, *ca;
	int	 json;		/* print raw JSON */
	int	 timeout;
};

/* Where an option's value goes: one slot per option name, any command. */
enum opt_slot {
	OPT_ADDRESS, OPT_AGENT, OPT_AGENTS, OPT_AK, OPT_AK_TPM2B, OPT_ASCII,
	OPT_BANK, OPT_BUILD, OPT_DAYS, OPT_DEB, OPT_EK, OPT_EK_PUB,
	OPT_EXCLUDE, OPT_FORCE, OPT_IMA_LIST, OPT_INTERVAL, OPT_JSON,
	OPT_KEEP, OPT_LIMIT, OPT_MERGE, OPT_MESSAGE, OPT_NAME, OPT_NONCE,
	OPT_OUTPUT, OPT_PACKAGE, OPT_PCR_SELECT, OPT_PCRS, OPT_PKG_VERSION,
	OPT_POLICY, OPT_PREFIX, OPT_ROOT, OPT_SIGNATURE, OPT_SINCE, OPT_STATE,
	OPT_TEMPLATE_HASH,
	OPT_THASH, OPT_VERIFIER_CN,
	OPT_KEY, OPT_CERT, OPT_CHAIN, OPT_SIGNER,
	OPT_CANARY,
	OPT_MAX
};

#define CO_REQUIRED	(1 << 0)	/* missing: usage error */

struct cmd_opt {
	const char	*name;		/* long name; NULL ends the list */
	int		 has_arg;	/* no_argument or required_argument */
	enum opt_slot	 slot;
	int		 flags;		/* CO_* */
	int		 shortopt;	/* e.g. 'o' for -o, 0: none */
};

struct cmd_args;

#define CMD_VERIFIER	(1 << 0)	/* needs --verifier, --cert, --key, --ca */

struct cmd {
	const char	*words[2];	/* "agents", "list"; words[1] NULL: one word */
	const char	*usage;		/* what follows the words */
	const struct cmd_opt *opts;	/* NULL or ended by a NULL name */
	int		 minpos, maxpos;	/* positional arguments */
	int		 flags;		/* CMD_* */
	int		(*run)(struct cmd_args *);
};

/* Every value an option was given (in order) and the last one. */
struct cmd_val {
	const char	*last;		/* NULL: not given; flags: "" */
	const char	**v;
	size_t		 n;
};

struct cmd_args {
	const struct cmd *cmd;
	struct ctl	*ctl;		/* NULL unless the row has CMD_VERIFIER */
	char		**pos;		/* positional arguments */
	int		 npos;
	struct cmd_val	 opt[OPT_MAX];
};

/*
 * Run the command argv[0] [argv[1]] ... (group aliases "agent" and
 * "policies" accepted). Usage errors print that row's usage (or the
 * global one) and return 2. ctl may be NULL for offline commands.
 * Returns the command's exit status.
 */
int	cmd_run(struct ctl *ctl, int argc, char **argv);
/* Print the global usage, generated from the table. */
void	cmd_usage_all(FILE *f);
/* Print the usage of a's row on stderr; returns 2. */
int	cmd_usage(const struct cmd_args *a);

/* The option's last value or NULL; cmd_flag: 1 when it was given. */
const char *cmd_str(const struct cmd_args *a, enum opt_slot s);
int	cmd_flag(const struct cmd_args *a, enum opt_slot s);

/*
 * Read path ("-": stdin) up to max bytes, NUL-terminated. On failure
 * print "assayctl: PATH: reason" on stderr and return the ASSAY_ERR_*.
 */
int	cmd_load(const char *path, size_t max, uint8_t **out, size_t *len);

#endif
