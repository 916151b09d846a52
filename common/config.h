/*
 * config.h — table-driven YAML configuration. A daemon describes its keys
 * (dotted paths for nested mappings, "tls.cert") with type, bounds and a
 * one-line help; config_load() fills a struct from a file, rejecting
 * unknown keys, wrong types and out-of-range values with file:line.
 */
#ifndef ASSAY_CONFIG_H
#define ASSAY_CONFIG_H

#include <stddef.h>

enum cfg_type {
	CFG_STR,	/* char *, freed by config_free */
	CFG_INT,	/* long, within [min, max] */
	CFG_BOOL,	/* int: true/false/yes/no/on/off */
	CFG_STRLIST,	/* struct cfg_strlist */
	CFG_STRMAP,	/* struct cfg_strlist of "name\tvalue": a mapping of
			 * free names (no tab) to a string or list of strings */
};

struct cfg_strlist {
	char	**v;
	size_t	  n;
};

struct cfg_key {
	const char	*name;
	enum cfg_type	 type;
	size_t		 off;		/* offsetof(struct yourconf, field) */
	long		 min, max;	/* CFG_INT only */
	const char	*help;
};

/*
 * keys terminated by { NULL }. Fields keep their defaults when absent.
 * Ownership: a CFG_STR field must start as NULL or as an xstrdup'ed string
 * owned by the struct; a CFG_STRLIST field zeroed or owned likewise. A value
 * from the file frees and replaces it; config_free() frees what is left.
 * On error (ASSAY_ERR_IO naming the path, ASSAY_ERR_CONFIG "file:line: ...")
 * the struct is left untouched. Files over 1 MiB are refused.
 */
int	config_load(const char *path, const struct cfg_key *keys, void *obj);
int	config_load_string(const char *text, size_t len, const char *name,
	    const struct cfg_key *keys, void *obj);
void	config_free(const struct cfg_key *keys, void *obj);

#endif
