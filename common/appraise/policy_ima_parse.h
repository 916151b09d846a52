/*
 * policy_ima_parse.h — the event-driven parse of an ima: section, shared
 * by policy_ima.c (the section and its keys) and policy_ima_pkg.c (the
 * packages: key): the parse context and the event helpers. Internal to
 * the compile; other modules use policy_ima.h.
 */
#ifndef ASSAY_POLICY_IMA_PARSE_H
#define ASSAY_POLICY_IMA_PARSE_H

#include <stddef.h>

#include <yaml.h>

#include "common/appraise/policy_ima_int.h"

struct ima_pkgs;

struct icx {
	yaml_parser_t	 yp;
	yaml_event_t	 ev;
	int		 have;
	size_t		 flow;		/* open flow collections */
	size_t		 last_end;	/* end index of the last event */
	struct ima_policy *p;
	const struct ima_runs *runs;	/* NULL: the text is the original */
	const char	*otext;		/* the original, where runs point */
	size_t		 next_run;
	const struct ima_run *run;	/* the current event is its marker */
	struct ima_pkgs	*pkgs;		/* packages: while compiling, or NULL */
	char		 bank[16];	/* top-level bank: ("" absent) */
};

/* Next event (aliases refused, runs' markers recognised). */
int	icx_next(struct icx *cx);
/* 1-based line of the current event. */
size_t	icx_line(const struct icx *cx);
/* Skip the node whose first event is current. */
int	icx_skip(struct icx *cx);
/* Current event as a string without NULs; what names it in errors. */
int	icx_scalar(struct icx *cx, const char *what, const char **s,
	    size_t *n);
/*
 * fn for each item of the sequence starting at the current event, or once
 * for a lone scalar; on return the current event is the value's last.
 */
typedef int (*icx_item_fn)(struct icx *, void *);
int	icx_each(struct icx *cx, const char *what, icx_item_fn fn, void *arg);

/*
 * packages: (policy_ima_pkg.c). The section is parsed into cx->pkgs; at
 * the end of the parse ima_pkgs_finish() checks every digest uses the
 * policy's bank and merges each path's digests, over all packages and
 * versions, into the allow: path map (a union with allow:'s own set).
 */
int	ima_pkgs_section(struct icx *cx);
int	ima_pkgs_finish(struct icx *cx);
void	ima_pkgs_free(struct ima_pkgs *k);	/* NULL-safe */

#endif
