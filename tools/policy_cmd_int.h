/*
 * policy_cmd_int.h — what the offline policy tools share (policy_gen.c,
 * policy_cmd.c, policy_keylime.c, ima_check_cmd.c; policy_mb_cmd.c uses
 * the quoting): the policy being built, its YAML writer, and the size
 * limit of their input files.
 */
#ifndef ASSAY_POLICY_CMD_INT_H
#define ASSAY_POLICY_CMD_INT_H

#include <stddef.h>
#include <stdio.h>

#include "tools/policy_pkg.h"

struct tpm2_hash;

/* Input files of the offline policy tools (IMA lists, policies): 1 GiB. */
#define POLICY_CMD_FILE_MAX	(1024u * 1024 * 1024)

/* One (name, "alg:hex") pair of the policy being written. */
struct pd {
	char	*name;
	char	*digest;
	int	 buf;		/* 1: buffers:, 0: allow: */
};

struct gen {
	struct pd	*v;
	size_t		 n, cap;
	char		**excl;
	size_t		 nexcl;
	char		**keys;
	size_t		 nkeys;
	const struct tpm2_hash *h;
	int		 warnings;
	char		**adig;		/* allow_digests: */
	size_t		 nadig;
	int		 require_sig, legacy;	/* written when set */
	char		*unknown;	/* NULL: fail */
	struct pkgset	 pkgs;		/* packages: */
	struct pkg	*build;		/* --build: the package being walked */
	char		*mname, *mbank;	/* name and bank of a --merge policy */
};

/* Append (name[0..nlen), digest) to allow: (buf 0) or buffers: (buf 1). */
void	policy_gen_add(struct gen *g, const char *name, size_t nlen,
	    const char *digest, int buf);
void	policy_gen_free(struct gen *g);	/* contents, not g */
/*
 * Sort and de-duplicate g, then write it as an ima: policy to outpath
 * (NULL or "-": stdout): allow:, buffers:, allow_digests:, exclude:,
 * keys:, require_signature: and legacy_sha1_extend: when set, unknown:,
 * packages:. The same g always gives the same bytes.
 */
int	policy_gen_write(struct gen *g, const char *name, const char *bank,
	    const char *outpath);
/*
 * s as a YAML double-quoted scalar: '"' and '\\' escaped, control bytes
 * and DEL as \xHH. Shared with policy_mb_cmd.c's from-eventlog writer.
 */
void	policy_yaml_quote(FILE *o, const char *s);

#endif
