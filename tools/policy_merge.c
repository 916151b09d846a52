/*
 * policy_merge.c — read an existing generated policy back (libyaml's
 * document tree; a tool, not the verifier's hot path) so that `policy
 * generate --merge` can add packages and trees to it and write it again
 * with its settings (excludes, keys, unknown:, ...) unchanged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "common/err.h"
#include "common/xmalloc.h"
#include "common/appraise/policy.h"
#include "tools/cmd.h"
#include "tools/policy_cmd_int.h"
#include "tools/policy_merge.h"
#include "tools/policy_pkg.h"

struct mctx {
	yaml_document_t	 doc;
	const char	*path;
	struct gen	*g;
};

static int
bad(const struct mctx *m, const yaml_node_t *n, const char *what)
{
	return assay_err_set(ASSAY_ERR_CONFIG, "%s: line %zu: %s", m->path,
	    n->start_mark.line + 1, what);
}

static const char *
scalar(const yaml_node_t *n)
{
	return n != NULL && n->type == YAML_SCALAR_NODE ?
	    (const char *)n->data.scalar.value : NULL;
}

typedef void (*str_fn)(struct mctx *, const char *, void *);

/* fn for a scalar, or for each scalar of a sequence. */
static int
each_str(struct mctx *m, yaml_node_t *n, str_fn fn, void *arg)
{
	yaml_node_item_t *it;
	const char *s;

	if ((s = scalar(n)) != NULL) {
		fn(m, s, arg);
		return ASSAY_OK;
	}
	if (n == NULL || n->type != YAML_SEQUENCE_NODE)
		return bad(m, n, "a string or a list of strings expected");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	    it++) {
		if ((s = scalar(yaml_document_get_node(&m->doc, *it))) == NULL)
			return bad(m, n, "a list of strings expected");
		fn(m, s, arg);
	}
	return ASSAY_OK;
}

static void
push(char ***v, size_t *n, const char *s)
{
	*v = xreallocarray(*v, *n + 1, sizeof(char *));
	(*v)[(*n)++] = xstrdup(s);
}

static void
take_excl(struct mctx *m, const char *s, void *arg)
{
	push(&m->g->excl, &m->g->nexcl, s);
}

static void
take_key(struct mctx *m, const char *s, void *arg)
{
	push(&m->g->keys, &m->g->nkeys, s);
}

static void
take_adig(struct mctx *m, const char *s, void *arg)
{
	push(&m->g->adig, &m->g->nadig, s);
}

/* allow: (buf 0) and buffers: (buf 1): the name is arg. */
struct set_arg {
	const char	*name;
	int		 buf;
};

static void
take_set(struct mctx *m, const char *s, void *arg)
{
	const struct set_arg *a = arg;

	policy_gen_add(m->g, a->name, strlen(a->name), s, a->buf);
}

static void
take_file(struct mctx *m, const char *s, void *arg)
{
	const struct set_arg *a = arg;
	struct pkg *p = m->g->pkgs.v[m->g->pkgs.n - 1];

	pkg_file_add(p, a->name, s);
}

/* A mapping of names to digests (allow:, buffers:, a package's files:). */
static int
name_map(struct mctx *m, yaml_node_t *n, int buf, str_fn fn)
{
	yaml_node_pair_t *pr;
	struct set_arg a;
	int r;

	if (n->type != YAML_MAPPING_NODE)
		return bad(m, n, "a mapping expected");
	for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top;
	    pr++) {
		if ((a.name = scalar(yaml_document_get_node(&m->doc,
		    pr->key))) == NULL)
			return bad(m, n, "a name expected");
		a.buf = buf;
		if ((r = each_str(m, yaml_document_get_node(&m->doc, pr->value),
		    fn, &a)) != 0)
			return r;
	}
	return ASSAY_OK;
}

/* One package mapping into g's set (the compile checked its shape). */
static int
one_pkg(struct mctx *m, yaml_node_t *n)
{
	yaml_node_pair_t *pr;
	yaml_node_t *v;
	struct pkg *p;
	const char *k;
	int r;

	if (n == NULL || n->type != YAML_MAPPING_NODE)
		return bad(m, n, "a package mapping expected");
	p = pkg_new(NULL, NULL, NULL, NULL);
	/* appended as it is: the compile found (name, version) unique */
	m->g->pkgs.v = xreallocarray(m->g->pkgs.v, m->g->pkgs.n + 1,
	    sizeof(*m->g->pkgs.v));
	m->g->pkgs.v[m->g->pkgs.n++] = p;
	for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top;
	    pr++) {
		k = scalar(yaml_document_get_node(&m->doc, pr->key));
		v = yaml_document_get_node(&m->doc, pr->value);
		if (k != NULL && strcmp(k, "files") == 0) {
			if ((r = name_map(m, v, 0, take_file)) != 0)
				return r;
			continue;
		}
		if (k == NULL || scalar(v) == NULL)
			return bad(m, n, "package fields are strings");
		if (strcmp(k, "name") == 0)
			p->name = xstrdup(scalar(v));
		else if (strcmp(k, "version") == 0)
			p->version = xstrdup(scalar(v));
		else if (strcmp(k, "arch") == 0)
			p->arch = xstrdup(scalar(v));
		else if (strcmp(k, "source") == 0)
			p->source = xstrdup(scalar(v));
	}
	if (p->name == NULL || p->version == NULL)
		return bad(m, n, "a package without name or version");
	return ASSAY_OK;
}

static int
packages(struct mctx *m, yaml_node_t *n)
{
	yaml_node_item_t *it;
	int r;

	if (n->type != YAML_SEQUENCE_NODE)
		return bad(m, n, "packages must be a list");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	    it++)
		if ((r = one_pkg(m, yaml_document_get_node(&m->doc, *it))) != 0)
			return r;
	return ASSAY_OK;
}

static int
ima_key(struct mctx *m, const char *k, yaml_node_t *v)
{
	struct gen *g = m->g;
	const char *s = scalar(v);

	if (strcmp(k, "allow") == 0)
		return name_map(m, v, 0, take_set);
	if (strcmp(k, "buffers") == 0)
		return name_map(m, v, 1, take_set);
	if (strcmp(k, "allow_digests") == 0)
		return each_str(m, v, take_adig, NULL);
	if (strcmp(k, "exclude") == 0)
		return each_str(m, v, take_excl, NULL);
	if (strcmp(k, "keys") == 0)
		return each_str(m, v, take_key, NULL);
	if (strcmp(k, "packages") == 0)
		return packages(m, v);
	if (s == NULL)
		return bad(m, v, "a string expected");
	if (strcmp(k, "require_signature") == 0)
		g->require_sig = strcmp(s, "true") == 0;
	else if (strcmp(k, "legacy_sha1_extend") == 0)
		g->legacy = strcmp(s, "true") == 0;
	else if (strcmp(k, "unknown") == 0) {
		free(g->unknown);
		g->unknown = xstrdup(s);
	}
	return ASSAY_OK;
}

static int
walk_top(struct mctx *m, yaml_node_t *root)
{
	yaml_node_pair_t *pr, *ip;
	yaml_node_t *v;
	const char *k, *s;
	int r;

	if (root == NULL || root->type != YAML_MAPPING_NODE)
		return bad(m, root, "not a policy");
	for (pr = root->data.mapping.pairs.start;
	    pr < root->data.mapping.pairs.top; pr++) {
		k = scalar(yaml_document_get_node(&m->doc, pr->key));
		v = yaml_document_get_node(&m->doc, pr->value);
		s = scalar(v);
		if (k != NULL && strcmp(k, "name") == 0 && s != NULL)
			m->g->mname = xstrdup(s);
		else if (k != NULL && strcmp(k, "bank") == 0 && s != NULL)
			m->g->mbank = xstrdup(s);
		else if (k != NULL && strcmp(k, "ima") == 0 &&
		    v->type == YAML_MAPPING_NODE) {
			for (ip = v->data.mapping.pairs.start;
			    ip < v->data.mapping.pairs.top; ip++)
				if ((s = scalar(yaml_document_get_node(&m->doc,
				    ip->key))) != NULL && (r = ima_key(m, s,
				    yaml_document_get_node(&m->doc,
				    ip->value))) != 0)
					return r;
		} else
			return assay_err_set(ASSAY_ERR_UNSUPPORTED, "%s: key "
			    "'%.64s' is not one a generated policy has (name, "
			    "bank, ima)", m->path, k != NULL ? k : "?");
	}
	return ASSAY_OK;
}

int
policy_merge_read(const char *path, struct gen *g)
{
	struct policy *pol = NULL;
	yaml_parser_t yp;
	struct mctx m;
	uint8_t *text;
	size_t len;
	int r;

	if (cmd_load(path, POLICY_CMD_FILE_MAX, &text, &len) != 0)
		return 2;
	memset(&m, 0, sizeof(m));
	m.path = path;
	m.g = g;
	if ((r = policy_compile((char *)text, len, NULL, &pol)) != 0) {
		fprintf(stderr, "error: %s: %s\n", path, assay_err_detail());
		free(text);
		return 2;
	}
	policy_unref(pol);
	if (!yaml_parser_initialize(&yp)) {
		free(text);
		return 2;
	}
	yaml_parser_set_input_string(&yp, text, len);
	if (!yaml_parser_load(&yp, &m.doc))
		r = assay_err_set(ASSAY_ERR_CONFIG, "%s: line %zu: %s", path,
		    yp.problem_mark.line + 1, yp.problem != NULL ? yp.problem :
		    "YAML error");
	else {
		r = walk_top(&m, yaml_document_get_root_node(&m.doc));
		yaml_document_delete(&m.doc);
	}
	yaml_parser_delete(&yp);
	free(text);
	if (r != 0) {
		fprintf(stderr, "error: %s\n", assay_err_detail());
		return 2;
	}
	return 0;
}
