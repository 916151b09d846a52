/*
 * policy_cmd.h — offline policy tools for assayctl:
 *   policy generate --name N [--bank ALG] [--exclude GLOB]... [--root DIR]...
 *       [--ima-list FILE [--ascii]] [-o OUT.yaml]
 *   policy import-keylime FILE [--name N] [-o OUT.yaml]
 *   ima check --policy P.yaml [--ascii] [--thash ALG] FILE
 * Files under --root DIR are recorded as their path below DIR, so a
 * mounted image root maps to "/" (DIR=/mnt/img: /mnt/img/usr/bin/x ->
 * /usr/bin/x); symlinks and non-regular files are skipped.
 */
#ifndef ASSAY_POLICY_CMD_H
#define ASSAY_POLICY_CMD_H

struct cmd_args;

/*
 * Rows of cmd.c's table. generate, import-keylime: 0 written, 1 refused
 * input (a Keylime file that does not parse), 2 usage or I/O error.
 */
int	cmd_policy_generate(struct cmd_args *a);
int	cmd_policy_import_keylime(struct cmd_args *a);

/* ima check: 0 every entry passes, 1 some fail, 2 usage/IO. */
int	cmd_ima_check(struct cmd_args *a);

/*
 * Convert one Keylime exclude regex (matched at the start of a path) to
 * one or two globs. Returns the number written to out[] (1 or 2, each
 * malloc'ed) or 0 with *why set when no glob equivalent exists.
 */
int	keylime_regex_to_globs(const char *re, char *out[2], const char **why);

#endif
