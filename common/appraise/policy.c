/*
 * policy.c — compile attestation policies (YAML, or JSON as YAML's flow
 * subset) into an immutable, reference-counted struct policy, and the
 * checks that read it. Owns: the table of top-level sections, the static
 * PCR section (pcrs:), the quote selection a policy needs.
 *
 * Adding a section (ima:, measured_boot:) is one row in `sections` and one
 * parse function; the struct is never modified after policy_compile()
 * returns, so worker threads share it without locks (refcount is atomic).
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>
#include <yaml.h>

#include "common/encode.h"
#include "common/err.h"
#include "common/appraise/verify_mb.h"
#include "common/evidence/pcr.h"
#include "common/evidence/tpm2.h"
#include "common/evidence/verdict.h"
#include "common/xmalloc.h"
#include "common/appraise/policy.h"
#include "common/appraise/policy_yaml.h"
#include "common/appraise/policy_ima.h"
#include "common/appraise/policy_mb.h"

/* PCRs every quote covers whatever the policy pins: 0-10. */
#define POLICY_BASE_PCRS	0x7ffu
/* Allowed values per PCR: far more than any fleet needs. */
#define POLICY_PCR_VALUES_MAX	4096

struct policy_pcr {
	size_t		 n;
	uint8_t		*v;		/* n digests of the bank's size */
};

struct policy {
	atomic_uint		 refs;
	char			 name[POLICY_NAME_MAX + 1];
	uint16_t		 bank;
	size_t			 dlen;
	uint32_t		 pinned;	/* bit i: pcr[i] holds values */
	struct policy_pcr	 pcr[TPM2_PCR_COUNT];
	struct ima_policy	*ima;		/* NULL without an ima: section */
	struct mb_policy	*mb;		/* NULL without measured_boot: */
	int			 allow_sha1;	/* bank: sha1 explicitly accepted */
	uint8_t			 text_sha256[32];
	char			*source;	/* policy_dir file, or NULL */
	int64_t			 version;	/* the store's version, 0 unknown */
};

/* The banks a policy may name (the PC client banks a quote can carry). */
static const struct {
	const char	*name;
	uint16_t	 alg;
	size_t		 size;
} banks[] = {
	{ "sha1", TPM2_ALG_SHA1, 20 },
	{ "sha256", TPM2_ALG_SHA256, 32 },
	{ "sha384", TPM2_ALG_SHA384, 48 },
	{ "sha512", TPM2_ALG_SHA512, 64 },
};

/* Compile state: the document and the policy under construction. */
struct pctx {
	yaml_document_t	*doc;
	struct policy	*p;
	const char	*want_name;
	struct ima_policy *ima;		/* compiled by the event pass */
};

typedef int (*section_fn)(struct pctx *, yaml_node_t *, yaml_node_t *);

static int parse_name(struct pctx *, yaml_node_t *, yaml_node_t *);
static int parse_bank(struct pctx *, yaml_node_t *, yaml_node_t *);
static int parse_allow_sha1(struct pctx *, yaml_node_t *, yaml_node_t *);
static int parse_pcrs(struct pctx *, yaml_node_t *, yaml_node_t *);
static int parse_description(struct pctx *, yaml_node_t *, yaml_node_t *);
static int parse_measured_boot(struct pctx *, yaml_node_t *, yaml_node_t *);
static int parse_ima(struct pctx *, yaml_node_t *, yaml_node_t *);

/*
 * Top-level sections, compiled in this order whatever their order in the
 * document (bank: must be known before pcrs: digests are decoded).
 */
static const struct {
	const char	*key;
	section_fn	 parse;
} sections[] = {
	{ "name", parse_name },
	{ "allow_sha1", parse_allow_sha1 },
	{ "bank", parse_bank },
	{ "description", parse_description },
	{ "pcrs", parse_pcrs },
	{ "measured_boot", parse_measured_boot },
	{ "ima", parse_ima },
};
#define NSECTIONS	(sizeof(sections) / sizeof(sections[0]))

size_t
policy_yaml_line(const yaml_node_t *n)
{
	return n->start_mark.line + 1;
}

static const char *
bank_name(uint16_t alg)
{
	size_t i;

	for (i = 0; i < sizeof(banks) / sizeof(banks[0]); i++)
		if (banks[i].alg == alg)
			return banks[i].name;
	return "unknown";
}

/* The scalar's text; ASSAY_ERR_CONFIG if not a scalar or has a NUL. */
int
policy_yaml_scalar(const yaml_node_t *n, const char *what, const char **out)
{
	if (n->type != YAML_SCALAR_NODE)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: %s must be "
		    "a string", policy_yaml_line(n), what);
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: %s contains "
		    "a NUL character", policy_yaml_line(n), what);
	*out = (const char *)n->data.scalar.value;
	return ASSAY_OK;
}

static int
parse_name(struct pctx *cx, yaml_node_t *k, yaml_node_t *v)
{
	const char *s;
	int r;

	if ((r = policy_yaml_scalar(v, "name", &s)) != 0)
		return r;
	if (!policy_name_valid(s))
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: invalid policy "
		    "name (want [A-Za-z0-9._-], 1-%d characters)", policy_yaml_line(v),
		    POLICY_NAME_MAX);
	if (cx->want_name != NULL && strcmp(cx->want_name, s) != 0)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: policy name "
		    "'%s' does not match '%s'", policy_yaml_line(v), s, cx->want_name);
	snprintf(cx->p->name, sizeof(cx->p->name), "%s", s);
	return ASSAY_OK;
}

static int
parse_bank(struct pctx *cx, yaml_node_t *k, yaml_node_t *v)
{
	const char *s;
	size_t i;
	int r;

	if ((r = policy_yaml_scalar(v, "bank", &s)) != 0)
		return r;
	for (i = 0; i < sizeof(banks) / sizeof(banks[0]); i++) {
		if (strcmp(banks[i].name, s) == 0) {
			/* SHA-1 collisions would bind forged facts to the quote. */
			if (banks[i].alg == TPM2_ALG_SHA1 && !cx->p->allow_sha1)
				return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: bank "
				    "sha1 binds evidence by SHA-1 only; use sha256, or "
				    "set 'allow_sha1: true' for TPMs without it",
				    policy_yaml_line(v));
			cx->p->bank = banks[i].alg;
			cx->p->dlen = banks[i].size;
			return ASSAY_OK;
		}
	}
	return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: unknown bank (want "
	    "sha1, sha256, sha384 or sha512)", policy_yaml_line(v));
}

static int
parse_allow_sha1(struct pctx *cx, yaml_node_t *k, yaml_node_t *v)
{
	const char *s;
	int r;

	if ((r = policy_yaml_scalar(v, "allow_sha1", &s)) != 0)
		return r;
	if (strcmp(s, "true") == 0)
		cx->p->allow_sha1 = 1;
	else if (strcmp(s, "false") != 0)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: allow_sha1 must "
		    "be true or false", policy_yaml_line(v));
	return ASSAY_OK;
}

/* "0".."23", decimal digits only. */
static int
pcr_index(const yaml_node_t *k, unsigned *out)
{
	const char *s;
	unsigned v = 0;
	size_t i;

	if (policy_yaml_scalar(k, "PCR index", &s) != 0)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: PCR index "
		    "must be a number 0-%d", policy_yaml_line(k), TPM2_PCR_COUNT - 1);
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 2)
			break;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (i == 0 || s[i] != '\0' || v >= TPM2_PCR_COUNT)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: PCR index "
		    "'%s' out of range 0-%d", policy_yaml_line(k), s, TPM2_PCR_COUNT - 1);
	*out = v;
	return ASSAY_OK;
}

/* One hex digest of the bank's length appended to pp. */
static int
pcr_value(struct pctx *cx, unsigned pcr, const yaml_node_t *n,
    struct policy_pcr *pp)
{
	uint8_t d[TPM2_MAX_DIGEST];
	const char *s;
	size_t len;
	int r;

	if ((r = policy_yaml_scalar(n, "PCR value", &s)) != 0)
		return r;
	if (strlen(s) != 2 * cx->p->dlen)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: PCR %u value "
		    "has %zu hex digits, %s needs %zu", policy_yaml_line(n), pcr, strlen(s),
		    bank_name(cx->p->bank), 2 * cx->p->dlen);
	if (hex_decode(s, d, sizeof(d), &len) != 0 || len != cx->p->dlen)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: PCR %u value "
		    "is not hex", policy_yaml_line(n), pcr);
	if (pp->n >= POLICY_PCR_VALUES_MAX)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: more than %d "
		    "values for PCR %u", policy_yaml_line(n), POLICY_PCR_VALUES_MAX, pcr);
	pp->v = xreallocarray(pp->v, pp->n + 1, cx->p->dlen);
	memcpy(pp->v + pp->n * cx->p->dlen, d, cx->p->dlen);
	pp->n++;
	return ASSAY_OK;
}

static int
parse_pcrs(struct pctx *cx, yaml_node_t *k, yaml_node_t *v)
{
	yaml_node_pair_t *pair;
	yaml_node_item_t *it;
	yaml_node_t *kn, *vn, *e;
	struct policy_pcr *pp;
	unsigned pcr = 0;
	int r;

	if (v->type != YAML_MAPPING_NODE)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: pcrs must map "
		    "PCR indexes to values", policy_yaml_line(v));
	for (pair = v->data.mapping.pairs.start;
	    pair < v->data.mapping.pairs.top; pair++) {
		kn = yaml_document_get_node(cx->doc, pair->key);
		vn = yaml_document_get_node(cx->doc, pair->value);
		if (kn == NULL || vn == NULL)
			return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: "
			    "malformed pcrs", policy_yaml_line(v));
		if ((r = pcr_index(kn, &pcr)) != 0)
			return r;
		if (cx->p->pinned & (1u << pcr))
			return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: PCR %u "
			    "listed twice", policy_yaml_line(kn), pcr);
		cx->p->pinned |= 1u << pcr;
		pp = &cx->p->pcr[pcr];
		if (vn->type == YAML_SEQUENCE_NODE) {
			for (it = vn->data.sequence.items.start;
			    it < vn->data.sequence.items.top; it++) {
				if ((e = yaml_document_get_node(cx->doc, *it)) ==
				    NULL)
					return assay_err_set(ASSAY_ERR_CONFIG,
					    "line %zu: malformed pcrs", policy_yaml_line(vn));
				if ((r = pcr_value(cx, pcr, e, pp)) != 0)
					return r;
			}
		} else if ((r = pcr_value(cx, pcr, vn, pp)) != 0)
			return r;
		if (pp->n == 0)
			return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: PCR %u "
			    "has no allowed values", policy_yaml_line(vn), pcr);
	}
	return ASSAY_OK;
}

/* Free text for humans; must be a string, otherwise ignored. */
static int
parse_description(struct pctx *cx, yaml_node_t *k, yaml_node_t *v)
{
	const char *s;

	return policy_yaml_scalar(v, "description", &s);
}

/* measured_boot: (verifier/policy_mb.c); after bank:, whose digests it uses. */
static int
parse_measured_boot(struct pctx *cx, yaml_node_t *k, yaml_node_t *v)
{
	return mb_policy_compile(cx->doc, v, cx->p->bank, &cx->p->mb);
}

/*
 * ima: was compiled from the event stream before the tree was built (see
 * policy_compile); here its value is the "{}" left in its place.
 */
static int
parse_ima(struct pctx *cx, yaml_node_t *k, yaml_node_t *v)
{
	if (cx->ima == NULL)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: ima section "
		    "not compiled", policy_yaml_line(k));
	cx->p->ima = cx->ima;	/* the policy owns it now */
	cx->ima = NULL;
	return ASSAY_OK;
}

static void
policy_free(struct policy *p)
{
	size_t i;

	if (p == NULL)
		return;
	ima_policy_free(p->ima);
	mb_policy_free(p->mb);
	free(p->source);
	for (i = 0; i < TPM2_PCR_COUNT; i++)
		free(p->pcr[i].v);
	free(p);
}

static int
yaml_error(yaml_parser_t *yp)
{
	return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: %s",
	    yp->problem_mark.line + 1,
	    yp->problem != NULL ? yp->problem : "YAML error");
}

/* Find each top-level key's section; all keys known, none twice. */
static int
collect_sections(struct pctx *cx, yaml_node_t *root, yaml_node_t **keys,
    yaml_node_t **vals)
{
	yaml_node_pair_t *pair;
	yaml_node_t *kn, *vn;
	const char *s;
	size_t i;
	int r;

	for (pair = root->data.mapping.pairs.start;
	    pair < root->data.mapping.pairs.top; pair++) {
		kn = yaml_document_get_node(cx->doc, pair->key);
		vn = yaml_document_get_node(cx->doc, pair->value);
		if (kn == NULL || vn == NULL)
			return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: "
			    "malformed policy", policy_yaml_line(root));
		if ((r = policy_yaml_scalar(kn, "a key", &s)) != 0)
			return r;
		for (i = 0; i < NSECTIONS; i++)
			if (strcmp(sections[i].key, s) == 0)
				break;
		if (i == NSECTIONS)
			return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: unknown "
			    "key '%s'", policy_yaml_line(kn), s);
		if (keys[i] != NULL)
			return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: "
			    "duplicate key '%s'", policy_yaml_line(kn), s);
		keys[i] = kn;
		vals[i] = vn;
	}
	return ASSAY_OK;
}

/*
 * A copy of text with the ima: value [vs, ve) replaced by "{}" and the
 * value's newlines, so line numbers still match; its length in *outlen.
 */
static char *
blank_ima_value(const char *text, size_t len, size_t vs, size_t ve,
    size_t *outlen)
{
	char *blanked;
	size_t i, j;

	blanked = xmalloc(len + 3);
	memcpy(blanked, text, vs);
	j = vs;
	blanked[j++] = '{';
	blanked[j++] = '}';
	for (i = vs; i < ve; i++)
		if (text[i] == '\n')
			blanked[j++] = '\n';
	memcpy(blanked + j, text + ve, len - ve);
	*outlen = j + len - ve;
	return blanked;
}

/* Load exactly one YAML document whose root is a mapping into *doc. */
static int
load_policy_doc(yaml_parser_t *yp, yaml_document_t *doc, int *have_doc,
    yaml_node_t **rootp)
{
	yaml_document_t extra;
	yaml_node_t *root;
	int r;

	if (!yaml_parser_load(yp, doc))
		return yaml_error(yp);
	*have_doc = 1;
	if ((root = yaml_document_get_root_node(doc)) == NULL)
		return assay_err_set(ASSAY_ERR_CONFIG, "line 1: empty policy");
	if (!yaml_parser_load(yp, &extra))
		return yaml_error(yp);
	if (yaml_document_get_root_node(&extra) != NULL) {
		r = assay_err_set(ASSAY_ERR_CONFIG, "line %zu: more than "
		    "one YAML document", extra.start_mark.line + 1);
		yaml_document_delete(&extra);
		return r;
	}
	yaml_document_delete(&extra);
	if (root->type != YAML_MAPPING_NODE)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: a policy "
		    "must be a mapping", policy_yaml_line(root));
	*rootp = root;
	return ASSAY_OK;
}

/* Run each present section's parser in table order; then settle the name. */
static int
parse_sections(struct pctx *cx, yaml_node_t *root, const char *name)
{
	yaml_node_t *keys[NSECTIONS] = { NULL }, *vals[NSECTIONS] = { NULL };
	size_t i;
	int r;

	if ((r = collect_sections(cx, root, keys, vals)) != 0)
		return r;
	for (i = 0; i < NSECTIONS; i++) {
		if (keys[i] != NULL &&
		    (r = sections[i].parse(cx, keys[i], vals[i])) != 0)
			return r;
	}
	if (cx->p->name[0] == '\0') {
		if (name == NULL)
			return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: "
			    "policy has no name", policy_yaml_line(root));
		snprintf(cx->p->name, sizeof(cx->p->name), "%s", name);
	}
	return ASSAY_OK;
}

int
policy_compile(const char *text, size_t len, const char *name,
    struct policy **out)
{
	yaml_parser_t yp;
	yaml_document_t doc;
	yaml_node_t *root = NULL;
	struct policy *p = NULL;
	struct ima_policy *ima = NULL;
	struct pctx cx;
	char *blanked = NULL;
	uint8_t digest[32];
	int have_doc = 0, r;
	size_t vs, ve;

	*out = NULL;
	memset(&cx, 0, sizeof(cx));
	if (!yaml_parser_initialize(&yp))
		return assay_err_set(ASSAY_ERR_CONFIG, "YAML parser "
		    "initialisation failed");
	if (name != NULL && !policy_name_valid(name)) {
		r = assay_err_set(ASSAY_ERR_INVAL, "invalid policy name");
		goto out;
	}
	/*
	 * The ima: section may hold a million digests: compile it from the
	 * event stream, then blank its value before the rest becomes a tree.
	 */
	if ((r = ima_policy_compile(text, len, &ima, &vs, &ve)) != 0)
		goto out;
	/* The digest is of the text as given, ima: section included. */
	SHA256((const unsigned char *)text, len, digest);
	if (ima != NULL && vs <= ve && ve <= len) {
		blanked = blank_ima_value(text, len, vs, ve, &len);
		text = blanked;
	}
	yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
	if ((r = load_policy_doc(&yp, &doc, &have_doc, &root)) != 0)
		goto out;

	p = xcalloc(1, sizeof(*p));
	atomic_init(&p->refs, 1);
	p->bank = TPM2_ALG_SHA256;
	p->dlen = 32;
	cx.doc = &doc;
	cx.p = p;
	cx.want_name = name;
	cx.ima = ima;
	ima = NULL;
	if ((r = parse_sections(&cx, root, name)) != 0)
		goto out;
	memcpy(p->text_sha256, digest, sizeof(digest));
	*out = p;	/* caller owns the only reference */
	p = NULL;
	r = ASSAY_OK;
 out:
	ima_policy_free(cx.ima);
	ima_policy_free(ima);
	free(blanked);
	policy_free(p);
	if (have_doc)
		yaml_document_delete(&doc);
	yaml_parser_delete(&yp);
	return r;
}

struct policy *
policy_ref(struct policy *p)
{
	atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
	return p;
}

void
policy_unref(struct policy *p)
{
	if (p == NULL)
		return;
	if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_release) != 1)
		return;
	atomic_thread_fence(memory_order_acquire);
	policy_free(p);
}

const char *
policy_name(const struct policy *p)
{
	return p->name;
}

const uint8_t *
policy_text_digest(const struct policy *p)
{
	return p->text_sha256;
}

int64_t
policy_version(const struct policy *p)
{
	return p->version;
}

void
policy_set_version(struct policy *p, int64_t version)
{
	p->version = version;
}

const char *
policy_source(const struct policy *p)
{
	return p->source;
}

void
policy_set_source(struct policy *p, const char *path)
{
	free(p->source);
	p->source = xstrdup_or_null(path);
}

uint16_t
policy_bank(const struct policy *p)
{
	return p->bank;
}

void
policy_selection(const struct policy *p, struct pcr_selection *out)
{
	memset(out, 0, sizeof(*out));
	out->n = 1;
	out->bank[0].hash = p->bank;
	out->bank[0].mask = POLICY_BASE_PCRS | p->pinned;
	if (p->mb != NULL)
		out->bank[0].mask |= MB_COVER_PCRS;
}

void
policy_check_pcrs(const struct policy *p, const struct pcr_values *v,
    struct verdict *vd)
{
	const struct policy_pcr *pp;
	const uint8_t *got;
	char *hex;
	unsigned i;
	size_t j;

	for (i = 0; i < TPM2_PCR_COUNT; i++) {
		if (!(p->pinned & (1u << i)))
			continue;
		pp = &p->pcr[i];
		if ((got = pcr_values_get(v, p->bank, i)) == NULL) {
			verdict_fail(vd, FID_PCR_VALUE, "PCR %u (%s) not reported",
			    i, bank_name(p->bank));
			continue;
		}
		for (j = 0; j < pp->n; j++)
			if (memcmp(got, pp->v + j * p->dlen, p->dlen) == 0)
				break;
		if (j < pp->n)
			continue;
		hex = hex_encode(got, p->dlen);
		verdict_fail(vd, FID_PCR_VALUE, "PCR %u (%s) is %s, not an "
		    "allowed value", i, bank_name(p->bank), hex);
		free(hex);
	}
}

const struct ima_policy *
policy_ima(const struct policy *p)
{
	return p->ima;
}

const struct mb_policy *
policy_mb(const struct policy *p)
{
	return p->mb;
}

int
policy_name_valid(const char *name)
{
	size_t i;

	if (name == NULL || name[0] == '\0')
		return 0;
	/* "." and ".." would be path components wherever names are used. */
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	for (i = 0; name[i] != '\0'; i++) {
		if (i >= POLICY_NAME_MAX)
			return 0;
		if (!((name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= '0' && name[i] <= '9') ||
		    name[i] == '.' || name[i] == '_' || name[i] == '-'))
			return 0;
	}
	return 1;
}
