/*
 * debver.h — Debian version ordering (Debian policy §5.6.12) for the
 * offline policy tools: which versions of a package are the newest.
 */
#ifndef ASSAY_DEBVER_H
#define ASSAY_DEBVER_H

/*
 * <0, 0, >0 as a sorts before, with, after b: epoch (digits before the
 * first ':', default 0) numerically, then the upstream version, then the
 * revision (after the last '-', default empty), each compared as
 * alternating non-digit parts (letters before other characters, '~'
 * before everything, even the end) and numeric parts.
 */
int	deb_version_cmp(const char *a, const char *b);

#endif
