/*
 * policy_mb_int.h — internals of the compiled measured_boot: section
 * shared by policy_mb.c (compile, entry digests) and policy_mb_check.c
 * (evaluation). Not for other modules: they use policy_mb.h.
 */
#ifndef ASSAY_POLICY_MB_INT_H
#define ASSAY_POLICY_MB_INT_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#include "common/appraise/policy_mb.h"

#define MB_EVENTS_MAX	256
/* Limits on kernel_cmdline patterns (see regex_unsafe in policy_mb.c). */
#define MB_RE_LEN_MAX		256
#define MB_RE_BOUND_MAX		64
#define MB_RE_GROWTH_MAX	64
#define MB_GLOB_STARS_MAX	16

/* A sorted set of canonical "alg:hex" strings (lowercase). */
struct mb_list {
	int		 set;		/* the key was in the policy */
	char		**v;
	size_t		 n;
};

enum mb_cmd_kind { MB_CMD_EXACT, MB_CMD_RE, MB_CMD_GLOB };

struct mb_cmd {
	enum mb_cmd_kind kind;
	char		*s;		/* the line, regex or glob */
	regex_t		 re;		/* MB_CMD_RE only */
};

struct mb_types {
	int		 set;
	uint32_t	*v;
	size_t		 n;
};

struct mb_policy {
	uint16_t	 bank;
	int		 secure_boot;	/* 1 required, 0 allowed or absent */
	struct mb_list	 pk, kek, db, dbx, apps, drivers;
	int		 cmd_set;
	struct mb_cmd	*cmd;
	size_t		 ncmd;
	struct mb_types	 require, forbid;
	int		 actions_set;
	char		**actions;
	size_t		 nactions;
};

/* s in the sorted list? */
int	mb_list_has(const struct mb_list *l, const char *s);

#endif
