/*
 * policy_ima.c — compile a policy's ima: section into an immutable lookup
 * structure (layout in policy_ima_int.h). Owns: the event-driven parse of
 * the section (libyaml events, never a node tree) and the signature keys.
 * Runs of plain digest or path lines reach it as one marker event each and
 * are read here from the original text (policy_ima_runs.c), so a
 * 1,000,000-digest section loads in a fraction of a second; the sorted
 * digest arrays and the name maps are policy_ima_table.c; the packages:
 * key is policy_ima_pkg.c. Nothing is written after compile: threads
 * share it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/evidence/ima.h"
#include "common/evidence/tpm2.h"
#include "common/evidence/verdict.h"
#include "common/xmalloc.h"
#include "common/appraise/policy_ima.h"
#include "common/appraise/policy_ima_int.h"
#include "common/appraise/policy_ima_parse.h"

/* Digest algorithms a policy may name; index stored in the arena. */
const struct ima_alg ima_algs[NALGS] = {
	{ "sha1", TPM2_ALG_SHA1, 20 },
	{ "sha256", TPM2_ALG_SHA256, 32 },
	{ "sha384", TPM2_ALG_SHA384, 48 },
	{ "sha512", TPM2_ALG_SHA512, 64 },
	{ "sm3_256", TPM2_ALG_SM3_256, 32 },
};

/* ---- the event-driven parse -------------------------------------------- */


/*
 * Is the current event the next run's marker? It must be where it was put,
 * a plain "_" outside flow collections, or the runs do not stand for what
 * the original says there (an error here: the caller retries without).
 */
static int
run_check(struct icx *cx)
{
	const struct ima_run *run = &cx->runs->r[cx->next_run];
	size_t at = cx->ev.start_mark.index;

	if (at < run->rchar || (at == run->rchar &&
	    cx->ev.type != YAML_SCALAR_EVENT))
		return ASSAY_OK;
	if (at > run->rchar || cx->flow > 0 ||
	    cx->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
	    cx->ev.data.scalar.length != 1 || cx->ev.data.scalar.value[0] != '_')
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: a run of "
		    "lines out of place", cx->ev.start_mark.line + 1);
	cx->run = run;
	cx->next_run++;
	return ASSAY_OK;
}

int
icx_next(struct icx *cx)
{
	if (cx->have)
		yaml_event_delete(&cx->ev);
	cx->have = 0;
	if (!yaml_parser_parse(&cx->yp, &cx->ev))
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: %s",
		    cx->yp.problem_mark.line + 1, cx->yp.problem != NULL ?
		    cx->yp.problem : "YAML error");
	cx->have = 1;
	/*
	 * A block collection's end event sits at the next token, so it does
	 * not move last_end; a flow one ends at its bracket. Collections
	 * inside a flow collection are flow too: a counter tells them apart.
	 */
	switch (cx->ev.type) {
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		if (cx->flow > 0 || (cx->ev.type == YAML_MAPPING_START_EVENT ?
		    cx->ev.data.mapping_start.style == YAML_FLOW_MAPPING_STYLE :
		    cx->ev.data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE))
			cx->flow++;
		cx->last_end = cx->ev.end_mark.index;
		break;
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		if (cx->flow > 0) {
			cx->flow--;
			cx->last_end = cx->ev.end_mark.index;
		}
		break;
	case YAML_DOCUMENT_END_EVENT:
		break;
	default:
		cx->last_end = cx->ev.end_mark.index;
		break;
	}
	if (cx->ev.type == YAML_ALIAS_EVENT)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: YAML aliases "
		    "are not supported here", cx->ev.start_mark.line + 1);
	cx->run = NULL;
	if (cx->runs != NULL && cx->next_run < cx->runs->n)
		return run_check(cx);
	return ASSAY_OK;
}

size_t
icx_line(const struct icx *cx)
{
	return cx->ev.start_mark.line + 1;
}

/* Skip the node whose first event is current. */
int
icx_skip(struct icx *cx)
{
	int depth = 0, r;

	for (;;) {
		switch (cx->ev.type) {
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			depth++;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		default:
			break;
		}
		if (depth <= 0)
			return ASSAY_OK;
		if ((r = icx_next(cx)) != 0)
			return r;
	}
}

/* Current event as a string without NULs. */
int
icx_scalar(struct icx *cx, const char *what, const char **s, size_t *n)
{
	if (cx->ev.type != YAML_SCALAR_EVENT || cx->run != NULL)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: %s must be a "
		    "string", icx_line(cx), what);
	*s = (const char *)cx->ev.data.scalar.value;
	*n = cx->ev.data.scalar.length;
	if (memchr(*s, '\0', *n) != NULL)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: %s contains a "
		    "NUL character", icx_line(cx), what);
	return ASSAY_OK;
}

/*
 * Call fn for each item of the sequence starting at the current event, or
 * once for a lone scalar. On return the current event is the last one of
 * the value.
 */
int
icx_each(struct icx *cx, const char *what, icx_item_fn fn, void *arg)
{
	int r;

	if (cx->ev.type == YAML_SCALAR_EVENT)
		return fn(cx, arg);
	if (cx->ev.type != YAML_SEQUENCE_START_EVENT)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: %s must be a "
		    "list", icx_line(cx), what);
	for (;;) {
		if ((r = icx_next(cx)) != 0)
			return r;
		if (cx->ev.type == YAML_SEQUENCE_END_EVENT)
			return ASSAY_OK;
		if ((r = fn(cx, arg)) != 0)
			return r;
	}
}

/* One digest's text; arg is the DF_* flags (allow_digests) or NULL (a set). */
static int
add_digest(struct icx *cx, const char *s, size_t n, void *arg)
{
	struct ima_policy *p = cx->p;
	uint8_t d[TPM2_MAX_DIGEST];
	const char *why;
	unsigned ai = 0;
	uint32_t ref;

	if ((why = ima_digest_parse(s, n, &ai, d)) != NULL)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: '%.*s' %s",
		    icx_line(cx), (int)(n < 80 ? n : 80), s, why);
	if (p->nstaged >= IMA_POLICY_DIGESTS_MAX)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: more than %u "
		    "digests", icx_line(cx), IMA_POLICY_DIGESTS_MAX);
	ref = ima_pol_digest_add(p, ai, d, arg != NULL ? DF_GLOBAL : 0);
	if (arg == NULL) {
		if (p->nrefs == p->rcap) {
			p->rcap = p->rcap == 0 ? 4096 : p->rcap * 2;
			p->refs = xreallocarray(p->refs, p->rcap, sizeof(*p->refs));
		}
		p->refs[p->nrefs++] = ref;
	}
	return ASSAY_OK;
}

/* A new name of allow: or buffers:; its digests follow. */
static int
add_name(struct icx *cx, struct namemap *m, const char *what, const char *s,
    size_t n)
{
	if (n == 0 || n > IMA_NAME_MAX)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: %s name "
		    "is empty or too long", icx_line(cx), what);
	if (ima_pol_name_find(m, s, n) >= 0)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: '%.*s' "
		    "listed twice in %s", icx_line(cx), (int)(n < 200 ? n : 200),
		    s, what);
	if (m->n >= IMA_POLICY_NAMES_MAX)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: more than "
		    "%u names in %s", icx_line(cx), IMA_POLICY_NAMES_MAX, what);
	ima_pol_name_add(m, s, n, (uint32_t)cx->p->nrefs);
	return ASSAY_OK;
}

/* A run's lines, read from the original: digests, or names with theirs. */
static int
run_lines(struct icx *cx, struct namemap *m, const char *what, void *arg)
{
	const struct ima_run *run = cx->run;
	struct ima_run_line l;
	size_t pos = run->oline, i;
	int r;

	while (pos <= run->oend) {
		if (ima_run_line(cx->otext, run->oend + 1, run->kind, &pos,
		    &l) != 0)
			return assay_err_set(ASSAY_ERR_CONFIG, "a run changed");
		if (run->kind == RUN_PATHS &&
		    (r = add_name(cx, m, what, l.name, l.nlen)) != 0)
			return r;
		for (i = 0; i < l.ndig; i++)
			if ((r = add_digest(cx, l.dig[i], l.dlen[i], arg)) != 0)
				return r;
		if (run->kind == RUN_PATHS)
			ima_pol_name_done(m, (uint32_t)cx->p->nrefs);
	}
	return ASSAY_OK;
}

/* Digest item: arg is the DF_* flags (allow_digests) or NULL (a set). */
static int
item_digest(struct icx *cx, void *arg)
{
	const char *s;
	size_t n;
	int r;

	if (cx->run != NULL && cx->run->kind == RUN_DIGESTS)
		return run_lines(cx, NULL, NULL, arg);
	if ((r = icx_scalar(cx, "a digest", &s, &n)) != 0)
		return r;
	return add_digest(cx, s, n, arg);
}

static int
sec_allow_digests(struct icx *cx)
{
	static int global = DF_GLOBAL;

	return icx_each(cx, "allow_digests", item_digest, &global);
}

/* A path run as keys of allow: (or buffers:); then its "[]" value. */
static int
name_run(struct icx *cx, struct namemap *m, const char *what)
{
	size_t at = cx->run->rchar + 3;		/* "_: []" */
	int r;

	if (cx->run->kind != RUN_PATHS)
		return assay_err_set(ASSAY_ERR_CONFIG, "a run out of place");
	if ((r = run_lines(cx, m, what, NULL)) != 0 || (r = icx_next(cx)) != 0)
		return r;
	if (cx->ev.type != YAML_SEQUENCE_START_EVENT ||
	    cx->ev.start_mark.index != at)
		return assay_err_set(ASSAY_ERR_CONFIG, "a run out of place");
	if ((r = icx_next(cx)) != 0)
		return r;
	if (cx->ev.type != YAML_SEQUENCE_END_EVENT)
		return assay_err_set(ASSAY_ERR_CONFIG, "a run out of place");
	return ASSAY_OK;
}

/* allow: and buffers: — a mapping of names to digest lists. */
static int
name_sets(struct icx *cx, struct namemap *m, const char *what)
{
	const char *s;
	size_t n;
	int r;

	if (cx->ev.type != YAML_MAPPING_START_EVENT)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: %s must map "
		    "names to digest lists", icx_line(cx), what);
	for (;;) {
		if ((r = icx_next(cx)) != 0)
			return r;
		if (cx->ev.type == YAML_MAPPING_END_EVENT)
			return ASSAY_OK;
		if (cx->run != NULL) {
			if ((r = name_run(cx, m, what)) != 0)
				return r;
			continue;
		}
		if ((r = icx_scalar(cx, "a name", &s, &n)) != 0 ||
		    (r = add_name(cx, m, what, s, n)) != 0 ||
		    (r = icx_next(cx)) != 0 ||
		    (r = icx_each(cx, what, item_digest, NULL)) != 0)
			return r;
		ima_pol_name_done(m, (uint32_t)cx->p->nrefs);
	}
}

static int
sec_allow(struct icx *cx)
{
	return name_sets(cx, &cx->p->paths, "allow");
}

static int
sec_buffers(struct icx *cx)
{
	return name_sets(cx, &cx->p->bufs, "buffers");
}

static int
item_glob(struct icx *cx, void *arg)
{
	struct ima_policy *p = cx->p;
	const char *s, *why;
	size_t n;
	int r;

	if ((r = icx_scalar(cx, "an exclude pattern", &s, &n)) != 0)
		return r;
	if ((why = ima_glob_invalid(s)) != NULL)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: exclude "
		    "pattern '%.200s' %s", icx_line(cx), s, why);
	if (p->nglobs >= IMA_POLICY_GLOBS_MAX)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: more than %d "
		    "exclude patterns", icx_line(cx), IMA_POLICY_GLOBS_MAX);
	p->globs = xreallocarray(p->globs, p->nglobs + 1, sizeof(*p->globs));
	ima_pol_glob_compile(s, &p->globs[p->nglobs++]);
	return ASSAY_OK;
}

static int
sec_exclude(struct icx *cx)
{
	return icx_each(cx, "exclude", item_glob, NULL);
}

static int
item_key(struct icx *cx, void *arg)
{
	struct ima_policy *p = cx->p;
	struct ima_key k;
	const char *s;
	size_t n;
	int r;

	if ((r = icx_scalar(cx, "a key", &s, &n)) != 0)
		return r;
	if (p->nkeys >= IMA_POLICY_KEYS_MAX)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: more than %d "
		    "keys", icx_line(cx), IMA_POLICY_KEYS_MAX);
	if (memmem(s, n, "-----BEGIN ", 11) == NULL)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: keys must be "
		    "inline PEM public keys or certificates", icx_line(cx));
	if ((r = ima_key_load((const uint8_t *)s, n, &k)) != 0)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: key: %s",
		    icx_line(cx), assay_err_detail());
	p->keys = xreallocarray(p->keys, p->nkeys + 1, sizeof(*p->keys));
	p->keys[p->nkeys++] = k;
	return ASSAY_OK;
}

static int
sec_keys(struct icx *cx)
{
	return icx_each(cx, "keys", item_key, NULL);
}

/* A true/false scalar into *out. */
static int
ev_bool(struct icx *cx, const char *key, int *out)
{
	const char *s;
	size_t n;
	int r;

	if ((r = icx_scalar(cx, key, &s, &n)) != 0)
		return r;
	if (strcmp(s, "true") == 0)
		*out = 1;
	else if (strcmp(s, "false") == 0)
		*out = 0;
	else
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: %s must be "
		    "true or false", icx_line(cx), key);
	return ASSAY_OK;
}

static int
sec_require_signature(struct icx *cx)
{
	return ev_bool(cx, "require_signature", &cx->p->require_sig);
}

static int
sec_unknown(struct icx *cx)
{
	const char *s;
	size_t n;
	int r;

	if ((r = icx_scalar(cx, "unknown", &s, &n)) != 0)
		return r;
	if (strcmp(s, "fail") == 0)
		cx->p->warn_unknown = 0;
	else if (strcmp(s, "warn") == 0)
		cx->p->warn_unknown = 1;
	else
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: unknown must "
		    "be fail or warn", icx_line(cx));
	return ASSAY_OK;
}

static int
sec_legacy_extend(struct icx *cx)
{
	return ev_bool(cx, "legacy_sha1_extend", &cx->p->legacy_extend);
}

int
ima_policy_legacy_extend(const struct ima_policy *p)
{
	return p->legacy_extend;
}

static const struct {
	const char	*key;
	int		(*parse)(struct icx *);
} keys_table[] = {
	{ "allow", sec_allow },
	{ "allow_digests", sec_allow_digests },
	{ "exclude", sec_exclude },
	{ "keys", sec_keys },
	{ "require_signature", sec_require_signature },
	{ "unknown", sec_unknown },
	{ "legacy_sha1_extend", sec_legacy_extend },
	{ "buffers", sec_buffers },
	{ "packages", ima_pkgs_section },
};
#define NKEYS	(sizeof(keys_table) / sizeof(keys_table[0]))

/* The ima: value; current event is its first. */
static int
parse_section(struct icx *cx, size_t *vstart, size_t *vend)
{
	unsigned seen = 0;
	const char *s;
	size_t n, i;
	int r, flow;

	if (cx->ev.type != YAML_MAPPING_START_EVENT)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: ima must be a "
		    "mapping", icx_line(cx));
	*vstart = cx->ev.start_mark.index;
	flow = cx->ev.data.mapping_start.style == YAML_FLOW_MAPPING_STYLE;
	for (;;) {
		if ((r = icx_next(cx)) != 0)
			return r;
		if (cx->ev.type == YAML_MAPPING_END_EVENT)
			break;
		if ((r = icx_scalar(cx, "a key", &s, &n)) != 0)
			return r;
		for (i = 0; i < NKEYS; i++)
			if (strcmp(keys_table[i].key, s) == 0)
				break;
		if (i == NKEYS)
			return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: unknown "
			    "key 'ima.%.64s'", icx_line(cx), s);
		if (seen & (1u << i))
			return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: "
			    "duplicate key 'ima.%s'", icx_line(cx), s);
		seen |= 1u << i;
		if ((r = icx_next(cx)) != 0 || (r = keys_table[i].parse(cx)) != 0)
			return r;
	}
	*vend = flow ? cx->ev.end_mark.index : cx->last_end;
	return ASSAY_OK;
}

/* ---- compile ----------------------------------------------------------- */

void
ima_policy_free(struct ima_policy *p)
{
	size_t i;

	if (p == NULL)
		return;
	ima_pol_tables_free(p);
	for (i = 0; i < p->nglobs; i++)
		free(p->globs[i].pat);
	free(p->globs);
	for (i = 0; i < p->nkeys; i++)
		ima_key_clear(&p->keys[i]);
	free(p->keys);
	free(p);
}

/*
 * libyaml marks count characters, not bytes: turn a mark index into the
 * byte offset in UTF-8 text (continuation bytes 10xxxxxx do not start one).
 */
static size_t
char_to_byte(const char *text, size_t len, size_t idx)
{
	size_t b = 0, c = 0;
	uint64_t w;

	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		b = 3;		/* a BOM is not counted as a character */
	while (b < len && c < idx) {
		if (idx - c >= 8 && len - b >= 8) {	/* 8 ASCII bytes at once */
			memcpy(&w, text + b, sizeof(w));
			if ((w & 0x8080808080808080ULL) == 0) {
				b += 8;
				c += 8;
				continue;
			}
		}
		b++;
		c++;
		while (b < len && ((unsigned char)text[b] & 0xc0) == 0x80)
			b++;
	}
	return b;
}

/* Top-level keys other than ima: are skipped; the one ima: is parsed. */
static int
top_level(struct icx *cx, size_t *vs, size_t *ve, int *found)
{
	const char *s;
	size_t n;
	int r, bank;

	for (;;) {
		if ((r = icx_next(cx)) != 0)
			return r;
		if (cx->ev.type == YAML_MAPPING_END_EVENT)
			return ASSAY_OK;
		if (cx->ev.type == YAML_SCALAR_EVENT &&
		    icx_scalar(cx, "a key", &s, &n) == 0 &&
		    strcmp(s, "ima") == 0) {
			if (*found)
				return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: "
				    "duplicate key 'ima'", icx_line(cx));
			*found = 1;
			if ((r = icx_next(cx)) != 0 ||
			    (r = parse_section(cx, vs, ve)) != 0)
				return r;
			continue;
		}
		bank = cx->ev.type == YAML_SCALAR_EVENT &&
		    strcmp((const char *)cx->ev.data.scalar.value, "bank") == 0;
		if ((r = icx_skip(cx)) != 0 || (r = icx_next(cx)) != 0)
			return r;
		if (bank && cx->ev.type == YAML_SCALAR_EVENT)	/* for packages: */
			snprintf(cx->bank, sizeof(cx->bank), "%s",
			    (const char *)cx->ev.data.scalar.value);
		if ((r = icx_skip(cx)) != 0)
			return r;
	}
}

/*
 * One pass of libyaml over text (the original, or the reduced one of runs
 * that point into otext); the section's value as character indexes.
 */
static int
compile_pass(const char *text, size_t len, const struct ima_runs *runs,
    const char *otext, struct ima_policy **out, size_t *vs, size_t *ve)
{
	struct icx cx;
	int r, found = 0;

	memset(&cx, 0, sizeof(cx));
	cx.runs = runs;
	cx.otext = otext;
	if (!yaml_parser_initialize(&cx.yp))
		return assay_err_set(ASSAY_ERR_CONFIG, "YAML parser "
		    "initialisation failed");
	cx.p = xcalloc(1, sizeof(*cx.p));
	yaml_parser_set_input_string(&cx.yp, (const unsigned char *)text, len);
	/* stream start, document start (or stream end), root. */
	if ((r = icx_next(&cx)) != 0 || (r = icx_next(&cx)) != 0)
		goto out;
	if (cx.ev.type != YAML_DOCUMENT_START_EVENT)
		goto done;
	if ((r = icx_next(&cx)) != 0)
		goto out;
	if (cx.ev.type != YAML_MAPPING_START_EVENT)
		goto done;	/* not a policy: the tree parse says why */
	if ((r = top_level(&cx, vs, ve, &found)) != 0)
		goto out;
 done:
	if (runs != NULL && cx.next_run != runs->n) {
		r = assay_err_set(ASSAY_ERR_CONFIG, "runs not all seen");
		goto out;
	}
	if (found) {
		if ((r = ima_pkgs_finish(&cx)) != 0)
			goto out;
		ima_pol_finish(cx.p);
		*out = cx.p;	/* caller owns it */
		cx.p = NULL;
	}
	r = ASSAY_OK;
 out:
	if (cx.have)
		yaml_event_delete(&cx.ev);
	yaml_parser_delete(&cx.yp);
	ima_pkgs_free(cx.pkgs);
	ima_policy_free(cx.p);
	return r;
}

int
ima_policy_compile(const char *text, size_t len, struct ima_policy **out,
    size_t *vstart, size_t *vend)
{
	struct ima_runs runs;
	size_t vs = 0, ve = 0;
	int r;

	*out = NULL;
	*vstart = *vend = 0;
	ima_runs_find(text, len, &runs);
	if (runs.text != NULL) {
		r = compile_pass(runs.text, runs.len, &runs, text, out, &vs, &ve);
		if (r == ASSAY_OK && *out != NULL) {
			*vstart = ima_runs_orig(&runs, char_to_byte(runs.text,
			    runs.len, vs));
			*vend = ima_runs_orig(&runs, char_to_byte(runs.text,
			    runs.len, ve));
		}
		ima_runs_free(&runs);
		if (r == ASSAY_OK)
			return r;
		/* What the runs do not explain, libyaml alone decides. */
	}
	if ((r = compile_pass(text, len, NULL, NULL, out, &vs, &ve)) != 0 ||
	    *out == NULL)
		return r;
	*vstart = char_to_byte(text, len, vs);
	*vend = char_to_byte(text, len, ve);
	return ASSAY_OK;
}
