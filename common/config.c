/*
 * config.c — table-driven YAML configuration files (libyaml document API).
 * Owns: reading the file (at most CONFIG_FILE_MAX bytes), flattening nested
 * mappings into dotted keys, validating every value against the caller's
 * key table, and only then storing the values into the caller's struct.
 *
 * Ownership of CFG_STR / CFG_STRLIST fields: before config_load() a CFG_STR
 * field must be NULL or a string the struct owns (xstrdup'ed), and a
 * CFG_STRLIST field must be zeroed or a list the struct owns (xstrdup'ed
 * strings in an xreallocarray'ed vector). A value from the file frees and
 * replaces the previous one; config_free() frees what remains. A failed
 * load leaves the struct untouched.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <yaml.h>

#include "common/config.h"
#include "common/err.h"
#include "common/xmalloc.h"

#define CONFIG_FILE_MAX	(1024 * 1024)

/* One validated assignment, applied once the whole file is known good. */
struct cfg_set {
	const struct cfg_key	*key;
	yaml_node_t		*val;
};

struct cfg_ctx {
	const char		*file;
	const struct cfg_key	*keys;
	yaml_document_t		*doc;
	unsigned char		*seen;		/* per key index */
	struct cfg_set		*sets;
	size_t			 nsets;
};

static const char *const type_names[] = {
	[CFG_STR] = "a string",
	[CFG_INT] = "an integer",
	[CFG_BOOL] = "a boolean (true/false/yes/no/on/off)",
	[CFG_STRLIST] = "a string or a list of strings",
	[CFG_STRMAP] = "a mapping of names to a string or a list of strings",
};

static const char *
type_name(enum cfg_type t)
{
	if ((size_t)t >= sizeof(type_names) / sizeof(type_names[0]))
		return "a value";
	return type_names[t];
}

static size_t
node_line(const yaml_node_t *n)
{
	return n->start_mark.line + 1;
}

/* A scalar's text, or NULL if it holds an embedded NUL. */
static const char *
scalar_str(const yaml_node_t *n)
{
	const char *s = (const char *)n->data.scalar.value;

	if (strlen(s) != n->data.scalar.length)
		return NULL;
	return s;
}

/* Plain empty scalars, "~" and "null" mean "no value" in YAML. */
static int
scalar_is_null(const yaml_node_t *n)
{
	const char *s = (const char *)n->data.scalar.value;

	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	return *s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0;
}

static int
parse_long(const char *s, long *out)
{
	char *end;
	long v;

	if (*s == '\0')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

static int
parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static int
wrong_type(struct cfg_ctx *cx, const struct cfg_key *k, const yaml_node_t *n)
{
	return assay_err_set(ASSAY_ERR_CONFIG, "%s:%zu: key '%s' wants %s",
	    cx->file, node_line(n), k->name, type_name(k->type));
}

/* A scalar usable as a value: not null, no embedded NUL. */
static int
check_scalar(struct cfg_ctx *cx, const struct cfg_key *k, const yaml_node_t *n,
    const char **out)
{
	if (n->type != YAML_SCALAR_NODE)
		return wrong_type(cx, k, n);
	if (scalar_is_null(n))
		return assay_err_set(ASSAY_ERR_CONFIG, "%s:%zu: key '%s' has "
		    "no value", cx->file, node_line(n), k->name);
	if ((*out = scalar_str(n)) == NULL)
		return assay_err_set(ASSAY_ERR_CONFIG, "%s:%zu: key '%s' "
		    "contains a NUL character", cx->file, node_line(n), k->name);
	return ASSAY_OK;
}

/* A string or a sequence of strings. */
static int
validate_list(struct cfg_ctx *cx, const struct cfg_key *k, yaml_node_t *n)
{
	yaml_node_item_t *it;
	yaml_node_t *e;
	const char *s;
	int r;

	if (n->type == YAML_SCALAR_NODE)
		return check_scalar(cx, k, n, &s);
	if (n->type != YAML_SEQUENCE_NODE)
		return wrong_type(cx, k, n);
	for (it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++) {
		if ((e = yaml_document_get_node(cx->doc, *it)) == NULL)
			return wrong_type(cx, k, n);
		if ((r = check_scalar(cx, k, e, &s)) != 0)
			return r;
	}
	return ASSAY_OK;
}

/* Names (non-empty, no tab, each once) to a string or list of strings. */
static int
validate_map(struct cfg_ctx *cx, const struct cfg_key *k, yaml_node_t *n)
{
	yaml_node_pair_t *pair, *prev;
	yaml_node_t *kn, *vn, *pk;
	const char *ks;
	int r;

	if (n->type != YAML_MAPPING_NODE)
		return wrong_type(cx, k, n);
	for (pair = n->data.mapping.pairs.start;
	    pair < n->data.mapping.pairs.top; pair++) {
		kn = yaml_document_get_node(cx->doc, pair->key);
		vn = yaml_document_get_node(cx->doc, pair->value);
		if (kn == NULL || vn == NULL)
			return wrong_type(cx, k, n);
		if ((r = check_scalar(cx, k, kn, &ks)) != 0)
			return r;
		if (strchr(ks, '\t') != NULL)
			return assay_err_set(ASSAY_ERR_CONFIG, "%s:%zu: key "
			    "'%s': a name contains a tab", cx->file,
			    node_line(kn), k->name);
		for (prev = n->data.mapping.pairs.start; prev < pair; prev++) {
			pk = yaml_document_get_node(cx->doc, prev->key);
			if (strcmp((const char *)pk->data.scalar.value, ks) == 0)
				return assay_err_set(ASSAY_ERR_CONFIG,
				    "%s:%zu: key '%s': '%s' given twice",
				    cx->file, node_line(kn), k->name, ks);
		}
		if ((r = validate_list(cx, k, vn)) != 0)
			return r;
	}
	return ASSAY_OK;
}

/* Check a value against its key's type without storing it. */
static int
validate(struct cfg_ctx *cx, const struct cfg_key *k, yaml_node_t *n)
{
	const char *s;
	long l;
	int b, r;

	switch (k->type) {
	case CFG_STR:
		return check_scalar(cx, k, n, &s);
	case CFG_INT:
		if ((r = check_scalar(cx, k, n, &s)) != 0)
			return r;
		if (parse_long(s, &l) != 0)
			return wrong_type(cx, k, n);
		if (l < k->min || l > k->max)
			return assay_err_set(ASSAY_ERR_CONFIG, "%s:%zu: key '%s' "
			    "is %ld, outside [%ld, %ld]", cx->file, node_line(n),
			    k->name, l, k->min, k->max);
		return ASSAY_OK;
	case CFG_BOOL:
		if ((r = check_scalar(cx, k, n, &s)) != 0)
			return r;
		if (parse_bool(s, &b) != 0)
			return wrong_type(cx, k, n);
		return ASSAY_OK;
	case CFG_STRLIST:
		return validate_list(cx, k, n);
	case CFG_STRMAP:
		return validate_map(cx, k, n);
	}
	return wrong_type(cx, k, n);
}

static void
strlist_free(struct cfg_strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Append a validated string or list to nl, each "prefix\tvalue" if prefix. */
static void
list_append(yaml_document_t *doc, yaml_node_t *n, const char *prefix,
    struct cfg_strlist *nl)
{
	yaml_node_t *e;
	size_t add = n->type == YAML_SCALAR_NODE ? 1 :
	    (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);

	nl->v = xreallocarray(nl->v, nl->n + add + 1, sizeof(*nl->v));
	for (size_t i = 0; i < add; i++) {
		e = n->type == YAML_SCALAR_NODE ? n :
		    yaml_document_get_node(doc, n->data.sequence.items.start[i]);
		nl->v[nl->n++] = prefix == NULL ?
		    xstrdup((const char *)e->data.scalar.value) :
		    xasprintf("%s\t%s", prefix, (const char *)e->data.scalar.value);
	}
}

/* Store a validated value; frees the field's previous value. */
static void
apply(yaml_document_t *doc, const struct cfg_key *k, yaml_node_t *n, void *obj)
{
	void *fld = (char *)obj + k->off;
	struct cfg_strlist *l, nl = { NULL, 0 };
	yaml_node_pair_t *pair;
	char **sp;
	long v = 0;
	int b = 0;

	switch (k->type) {
	case CFG_STR:
		sp = fld;
		free(*sp);
		*sp = xstrdup((const char *)n->data.scalar.value);
		break;
	case CFG_INT:
		(void)parse_long((const char *)n->data.scalar.value, &v);
		memcpy(fld, &v, sizeof(v));
		break;
	case CFG_BOOL:
		(void)parse_bool((const char *)n->data.scalar.value, &b);
		memcpy(fld, &b, sizeof(b));
		break;
	case CFG_STRLIST:
		l = fld;
		list_append(doc, n, NULL, &nl);
		strlist_free(l);
		*l = nl;
		break;
	case CFG_STRMAP:
		l = fld;
		for (pair = n->data.mapping.pairs.start;
		    pair < n->data.mapping.pairs.top; pair++)
			list_append(doc, yaml_document_get_node(doc, pair->value),
			    (const char *)yaml_document_get_node(doc,
			    pair->key)->data.scalar.value, &nl);
		strlist_free(l);
		*l = nl;
		break;
	}
}

static const struct cfg_key *
key_find(const struct cfg_key *keys, const char *name)
{
	for (; keys->name != NULL; keys++)
		if (strcmp(keys->name, name) == 0)
			return keys;
	return NULL;
}

/* Some key lives under "prefix." */
static int
key_is_prefix(const struct cfg_key *keys, const char *prefix)
{
	size_t n = strlen(prefix);

	for (; keys->name != NULL; keys++)
		if (strncmp(keys->name, prefix, n) == 0 && keys->name[n] == '.')
			return 1;
	return 0;
}

static int
walk(struct cfg_ctx *cx, yaml_node_t *map, const char *prefix)
{
	yaml_node_pair_t *pair, *prev;
	yaml_node_t *kn, *vn, *pk;
	const struct cfg_key *k;
	const char *ks;
	char *full = NULL;
	int r = ASSAY_OK;

	for (pair = map->data.mapping.pairs.start;
	    pair < map->data.mapping.pairs.top; pair++) {
		free(full);
		full = NULL;
		kn = yaml_document_get_node(cx->doc, pair->key);
		vn = yaml_document_get_node(cx->doc, pair->value);
		if (kn == NULL || vn == NULL) {
			r = assay_err_set(ASSAY_ERR_CONFIG, "%s: malformed "
			    "document", cx->file);
			goto out;
		}
		if (kn->type != YAML_SCALAR_NODE || (ks = scalar_str(kn)) == NULL ||
		    *ks == '\0') {
			r = assay_err_set(ASSAY_ERR_CONFIG, "%s:%zu: keys must "
			    "be non-empty strings", cx->file, node_line(kn));
			goto out;
		}
		full = prefix == NULL ? xstrdup(ks) : xasprintf("%s.%s", prefix, ks);
		if ((k = key_find(cx->keys, full)) == NULL) {
			if (!key_is_prefix(cx->keys, full)) {
				r = assay_err_set(ASSAY_ERR_CONFIG, "%s:%zu: "
				    "unknown key '%s'", cx->file, node_line(kn),
				    full);
				goto out;
			}
			if (vn->type != YAML_MAPPING_NODE) {
				r = assay_err_set(ASSAY_ERR_CONFIG, "%s:%zu: "
				    "key '%s' wants a mapping", cx->file,
				    node_line(vn), full);
				goto out;
			}
		}
		/*
		 * Every earlier key in this mapping passed the lookup above,
		 * so this scan is bounded by the size of the key table.
		 */
		for (prev = map->data.mapping.pairs.start; prev < pair; prev++) {
			pk = yaml_document_get_node(cx->doc, prev->key);
			if (strcmp((const char *)pk->data.scalar.value, ks) == 0) {
				r = assay_err_set(ASSAY_ERR_CONFIG, "%s:%zu: "
				    "duplicate key '%s'", cx->file,
				    node_line(kn), full);
				goto out;
			}
		}
		if (k == NULL) {
			if ((r = walk(cx, vn, full)) != 0)
				goto out;
			continue;
		}
		if (cx->seen[k - cx->keys]) {
			r = assay_err_set(ASSAY_ERR_CONFIG, "%s:%zu: duplicate "
			    "key '%s'", cx->file, node_line(kn), full);
			goto out;
		}
		cx->seen[k - cx->keys] = 1;
		if ((r = validate(cx, k, vn)) != 0)
			goto out;
		cx->sets[cx->nsets].key = k;
		cx->sets[cx->nsets].val = vn;
		cx->nsets++;
	}
 out:
	free(full);
	return r;
}

int
config_load_string(const char *text, size_t len, const char *name,
    const struct cfg_key *keys, void *obj)
{
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	yaml_node_t *root;
	struct cfg_ctx cx;
	size_t nkeys = 0, i;
	int have_doc = 0, r;

	memset(&cx, 0, sizeof(cx));
	if (name == NULL)
		name = "<config>";
	if (len > CONFIG_FILE_MAX)
		return assay_err_set(ASSAY_ERR_CONFIG, "%s: larger than %d "
		    "bytes", name, CONFIG_FILE_MAX);
	if (!yaml_parser_initialize(&parser))
		return assay_err_set(ASSAY_ERR_CONFIG, "%s: yaml parser "
		    "initialisation failed", name);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		r = assay_err_set(ASSAY_ERR_CONFIG, "%s:%zu: %s", name,
		    parser.problem_mark.line + 1,
		    parser.problem != NULL ? parser.problem : "YAML error");
		goto out;
	}
	have_doc = 1;
	if ((root = yaml_document_get_root_node(&doc)) == NULL) {
		r = ASSAY_OK;		/* empty file: all defaults */
		goto out;
	}
	if (!yaml_parser_load(&parser, &extra)) {
		r = assay_err_set(ASSAY_ERR_CONFIG, "%s:%zu: %s", name,
		    parser.problem_mark.line + 1,
		    parser.problem != NULL ? parser.problem : "YAML error");
		goto out;
	}
	if (yaml_document_get_root_node(&extra) != NULL) {
		r = assay_err_set(ASSAY_ERR_CONFIG, "%s:%zu: more than one "
		    "YAML document", name, extra.start_mark.line + 1);
		yaml_document_delete(&extra);
		goto out;
	}
	yaml_document_delete(&extra);
	if (root->type != YAML_MAPPING_NODE) {
		r = assay_err_set(ASSAY_ERR_CONFIG, "%s:%zu: top level must be "
		    "a mapping", name, node_line(root));
		goto out;
	}
	for (nkeys = 0; keys[nkeys].name != NULL; nkeys++)
		;
	cx.file = name;
	cx.keys = keys;
	cx.doc = &doc;
	cx.seen = xcalloc(nkeys + 1, 1);
	cx.sets = xreallocarray(NULL, nkeys + 1, sizeof(*cx.sets));
	if ((r = walk(&cx, root, NULL)) != 0)
		goto out;
	for (i = 0; i < cx.nsets; i++)
		apply(&doc, cx.sets[i].key, cx.sets[i].val, obj);
 out:
	free(cx.seen);
	free(cx.sets);
	if (have_doc)
		yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return r;
}

int
config_load(const char *path, const struct cfg_key *keys, void *obj)
{
	struct stat st;
	char *text = NULL;
	size_t off = 0;
	ssize_t n;
	int fd = -1, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		r = assay_err_set(ASSAY_ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		r = assay_err_set(ASSAY_ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = assay_err_set(ASSAY_ERR_IO, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size > CONFIG_FILE_MAX) {
		r = assay_err_set(ASSAY_ERR_CONFIG, "%s: larger than %d bytes",
		    path, CONFIG_FILE_MAX);
		goto out;
	}
	/* One byte more than the limit, to notice a file that grew. */
	text = xmalloc(CONFIG_FILE_MAX + 1);
	for (;;) {
		n = read(fd, text + off, CONFIG_FILE_MAX + 1 - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			r = assay_err_set(ASSAY_ERR_IO, "%s: %s", path,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		off += (size_t)n;
		if (off > CONFIG_FILE_MAX) {
			r = assay_err_set(ASSAY_ERR_CONFIG, "%s: larger than "
			    "%d bytes", path, CONFIG_FILE_MAX);
			goto out;
		}
	}
	r = config_load_string(text, off, path, keys, obj);
 out:
	free(text);
	if (fd != -1)
		close(fd);
	return r;
}

void
config_free(const struct cfg_key *keys, void *obj)
{
	void *fld;
	char **sp;

	if (obj == NULL)
		return;
	for (; keys->name != NULL; keys++) {
		fld = (char *)obj + keys->off;
		switch (keys->type) {
		case CFG_STR:
			sp = fld;
			free(*sp);
			*sp = NULL;
			break;
		case CFG_STRLIST:
		case CFG_STRMAP:
			strlist_free(fld);
			break;
		case CFG_INT:
		case CFG_BOOL:
			break;
		}
	}
}
