/*
 * policy_mb.c — compile the measured_boot: section of a policy (a libyaml
 * node tree: the section is small) into struct mb_policy, and the entry
 * digest of an EFI_SIGNATURE_DATA that pk/kek/db/dbx_contains entries
 * name. The evaluation lives in policy_mb_check.c.
 */
#include <ctype.h>
#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "common/buf.h"
#include "common/encode.h"
#include "common/err.h"
#include "common/evidence/eventlog.h"
#include "common/evidence/tpm2.h"
#include "common/xmalloc.h"
#include "common/appraise/policy_mb.h"
#include "common/appraise/policy_yaml.h"
#include "common/appraise/policy_mb_int.h"

/* Hash signature types of EFI_SIGNATURE_LISTs (UEFI 2.x, 32.4.1). */
static const struct {
	uint8_t		 guid[16];
	const char	*name;
	size_t		 size;
} efi_hash_types[] = {
	/* EFI_CERT_SHA1_GUID 826ca512-cf10-4ac9-b187-be01496631bd */
	{ { 0x12, 0xa5, 0x6c, 0x82, 0x10, 0xcf, 0xc9, 0x4a,
	    0xb1, 0x87, 0xbe, 0x01, 0x49, 0x66, 0x31, 0xbd }, "sha1", 20 },
	/* EFI_CERT_SHA224_GUID 0b6e5233-a65c-44c9-9407-d9ab83bfc8bd */
	{ { 0x33, 0x52, 0x6e, 0x0b, 0x5c, 0xa6, 0xc9, 0x44,
	    0x94, 0x07, 0xd9, 0xab, 0x83, 0xbf, 0xc8, 0xbd }, "sha224", 28 },
	/* EFI_CERT_SHA256_GUID c1c41626-504c-4092-aca9-41f936934328 */
	{ { 0x26, 0x16, 0xc4, 0xc1, 0x4c, 0x50, 0x92, 0x40,
	    0xac, 0xa9, 0x41, 0xf9, 0x36, 0x93, 0x43, 0x28 }, "sha256", 32 },
	/* EFI_CERT_SHA384_GUID ff3e5307-9fd0-48c9-85f1-8ad56c701e01 */
	{ { 0x07, 0x53, 0x3e, 0xff, 0xd0, 0x9f, 0xc9, 0x48,
	    0x85, 0xf1, 0x8a, 0xd5, 0x6c, 0x70, 0x1e, 0x01 }, "sha384", 48 },
	/* EFI_CERT_SHA512_GUID 093e0fae-a6c4-4f50-9f1b-d41e2b89c19a */
	{ { 0xae, 0x0f, 0x3e, 0x09, 0xc4, 0xa6, 0x50, 0x4f,
	    0x9f, 0x1b, 0xd4, 0x1e, 0x2b, 0x89, 0xc1, 0x9a }, "sha512", 64 },
};
#define NHASHTYPES	(sizeof(efi_hash_types) / sizeof(efi_hash_types[0]))

/* Entry digest algorithms by name, for parsing policy entries. */
static const struct {
	const char	*name;
	size_t		 size;
} entry_algs[] = {
	{ "sha1", 20 }, { "sha224", 28 }, { "sha256", 32 }, { "sha384", 48 },
	{ "sha512", 64 },
};
#define NENTRYALGS	(sizeof(entry_algs) / sizeof(entry_algs[0]))

enum key_kind {
	K_SECURE_BOOT, K_KEYDB, K_APPS, K_CMDLINE, K_TYPES, K_ACTIONS
};

/* The section's keys; off locates the member for list kinds. */
static const struct {
	const char	*key;
	enum key_kind	 kind;
	size_t		 off;
} mb_keys[] = {
	{ "secure_boot", K_SECURE_BOOT, 0 },
	{ "pk", K_KEYDB, offsetof(struct mb_policy, pk) },
	{ "kek", K_KEYDB, offsetof(struct mb_policy, kek) },
	{ "db", K_KEYDB, offsetof(struct mb_policy, db) },
	{ "dbx_contains", K_KEYDB, offsetof(struct mb_policy, dbx) },
	{ "boot_apps", K_APPS, offsetof(struct mb_policy, apps) },
	{ "allowed_boot_apps", K_APPS, offsetof(struct mb_policy, apps) },
	{ "drivers", K_APPS, offsetof(struct mb_policy, drivers) },
	{ "kernel_cmdline", K_CMDLINE, 0 },
	{ "require_events", K_TYPES, offsetof(struct mb_policy, require) },
	{ "forbid_events", K_TYPES, offsetof(struct mb_policy, forbid) },
	{ "forbid_actions", K_ACTIONS, 0 },
};
#define NMBKEYS		(sizeof(mb_keys) / sizeof(mb_keys[0]))

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
mb_list_has(const struct mb_list *l, const char *s)
{
	return l->n > 0 && bsearch(&s, l->v, l->n, sizeof(*l->v),
	    str_cmp) != NULL;
}

int
mb_sig_entry(const uint8_t type[16], const struct cur *sig,
    char out[MB_ENTRY_MAX])
{
	uint8_t d[32];
	size_t i, dlen, n;
	const char *name;
	char *hex;
	int r;

	for (i = 0; i < NHASHTYPES; i++)
		if (memcmp(type, efi_hash_types[i].guid, 16) == 0 &&
		    cur_left(sig) == efi_hash_types[i].size)
			break;
	if (i < NHASHTYPES) {
		name = efi_hash_types[i].name;
		hex = hex_encode(sig->p, cur_left(sig));
	} else {
		if ((r = tpm2_hash(TPM2_ALG_SHA256, sig->p, cur_left(sig), d,
		    &dlen)) != 0)
			return r;
		name = "sha256";
		hex = hex_encode(d, dlen);
	}
	n = (size_t)snprintf(out, MB_ENTRY_MAX, "%s:%s", name, hex);
	free(hex);
	if (n >= MB_ENTRY_MAX)
		return assay_err_set(ASSAY_ERR_RANGE, "entry digest too long");
	return ASSAY_OK;
}

int
mb_event_type(const char *s, uint32_t *type)
{
	const char *nm;
	unsigned long v;
	uint32_t base, i;
	char *end;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && s[2] != '\0') {
		for (i = 2; s[i] != '\0'; i++)
			if (!isxdigit((unsigned char)s[i]) || i >= 10)
				return -1;
		v = strtoul(s + 2, &end, 16);
		*type = (uint32_t)v;
		return 0;
	}
	/* Named types live in 0x00-0xff and 0x80000000-0x800000ff. */
	for (base = 0; ; base = EV_EFI_EVENT_BASE) {
		for (i = 0; i < 0x100; i++) {
			if ((nm = eventlog_type_name(base + i)) != NULL &&
			    strcmp(nm, s) == 0) {
				*type = base + i;
				return 0;
			}
		}
		if (base == EV_EFI_EVENT_BASE)
			break;
	}
	return -1;
}

/*
 * One digest entry to its canonical form "alg:hex" (lowercase). want is
 * the only algorithm allowed (apps, drivers), or NULL for any entry alg.
 */
static int
digest_entry(const yaml_node_t *n, const char *what,
    const struct tpm2_hash *want, char **out)
{
	const char *s, *colon, *hx;
	const char *name = NULL;
	size_t i, alen, hlen, size = 0;
	char *c;
	int r;

	if ((r = policy_yaml_scalar(n, what, &s)) != 0)
		return r;
	if ((colon = strchr(s, ':')) != NULL) {
		alen = (size_t)(colon - s);
		hx = colon + 1;
		if (want != NULL) {
			if (strlen(want->name) == alen &&
			    strncasecmp(s, want->name, alen) == 0) {
				name = want->name;
				size = want->size;
			}
		} else {
			for (i = 0; i < NENTRYALGS; i++)
				if (strlen(entry_algs[i].name) == alen &&
				    strncasecmp(s, entry_algs[i].name, alen) == 0)
					break;
			if (i < NENTRYALGS) {
				name = entry_algs[i].name;
				size = entry_algs[i].size;
			}
		}
		if (name == NULL)
			return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: %s "
			    "'%s': algorithm must be %s", policy_yaml_line(n), what, s,
			    want != NULL ? want->name :
			    "sha1, sha224, sha256, sha384 or sha512");
	} else {
		hx = s;
		hlen = strlen(hx);
		if (want != NULL) {
			if (hlen == 2 * want->size) {
				name = want->name;
				size = want->size;
			}
		} else {
			for (i = 0; i < NENTRYALGS; i++)
				if (hlen == 2 * entry_algs[i].size)
					break;
			if (i < NENTRYALGS) {
				name = entry_algs[i].name;
				size = entry_algs[i].size;
			}
		}
		if (name == NULL)
			return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: %s "
			    "'%s': not a digest (want alg:hex)", policy_yaml_line(n), what,
			    s);
	}
	hlen = strlen(hx);
	for (i = 0; i < hlen; i++)
		if (!isxdigit((unsigned char)hx[i]))
			break;
	if (hlen != 2 * size || i != hlen)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: %s '%s': "
		    "want %zu hex digits for %s", policy_yaml_line(n), what, s, 2 * size,
		    name);
	c = xasprintf("%s:%s", name, hx);
	for (i = strlen(name) + 1; c[i] != '\0'; i++)
		c[i] = (char)tolower((unsigned char)c[i]);
	*out = c;
	return ASSAY_OK;
}

/*
 * glibc's regcomp() copies a repeated group's tree for '+' and {m,n}, so
 * nested or stacked repetition costs exponential memory, and its
 * back-references make regexec() exponential. Refuse what a command line
 * pattern never needs: back-references, a repetition of a repetition,
 * bounds above MB_RE_BOUND_MAX, groups whose repetitions multiply beyond
 * MB_RE_GROWTH_MAX, patterns over MB_RE_LEN_MAX. NULL if acceptable.
 */
static const char *
regex_unsafe(const char *re)
{
	size_t i, n = strlen(re), growth = 1;
	unsigned long lo, hi;
	int prev = 0;		/* 'a' atom, ')' group end, 'q' quantifier */
	char *end;

	if (n > MB_RE_LEN_MAX)
		return "longer than 256 characters";
	for (i = 0; i < n; i++) {
		switch (re[i]) {
		case '\\':
			if (i + 1 < n && re[i + 1] >= '0' && re[i + 1] <= '9')
				return "back-references are not supported";
			i++;
			prev = 'a';
			break;
		case '[':
			/* Bracket expression: ']' first (after '^') is literal. */
			i++;
			if (i < n && re[i] == '^')
				i++;
			if (i < n && re[i] == ']')
				i++;
			while (i < n && re[i] != ']') {
				if (re[i] == '[' && i + 1 < n && (re[i + 1] == ':' ||
				    re[i + 1] == '.' || re[i + 1] == '=')) {
					end = strstr(re + i + 2, (char[3]){ re[i + 1],
					    ']', '\0' });
					if (end == NULL)
						return "unterminated bracket class";
					i = (size_t)(end - re) + 1;
				}
				i++;
			}
			prev = 'a';
			break;
		case '*':
		case '+':
		case '?':
		case '{':
			if (prev == 'q')
				return "repetition of a repetition";
			lo = hi = 1;
			if (re[i] == '{') {
				lo = strtoul(re + i + 1, &end, 10);
				hi = lo;
				if (*end == ',' && end[1] != '}')
					hi = strtoul(end + 1, &end, 10);
				if (hi > MB_RE_BOUND_MAX || lo > MB_RE_BOUND_MAX)
					return "repetition bound above 64";
				if ((end = strchr(re + i, '}')) != NULL)
					i = (size_t)(end - re);
			} else if (re[i] == '+')
				hi = 2;
			if (prev == ')') {
				growth *= hi + 1;
				if (growth > MB_RE_GROWTH_MAX)
					return "repeated groups grow too large";
			}
			prev = 'q';
			break;
		case ')':
			prev = ')';
			break;
		default:
			prev = 'a';
			break;
		}
	}
	return NULL;
}

/* The items of a sequence node, checked to be one. */
static int
seq(yaml_document_t *doc, const yaml_node_t *v, const char *key,
    yaml_node_item_t **start, size_t *n)
{
	yaml_node_item_t *it;

	if (v->type != YAML_SEQUENCE_NODE)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: %s must be a "
		    "list", policy_yaml_line(v), key);
	*start = v->data.sequence.items.start;
	*n = (size_t)(v->data.sequence.items.top - *start);
	if (*n > MB_LIST_MAX)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: %s has more "
		    "than %d entries", policy_yaml_line(v), key, MB_LIST_MAX);
	for (it = *start; it < *start + *n; it++)
		if (yaml_document_get_node(doc, *it) == NULL)
			return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: "
			    "malformed %s", policy_yaml_line(v), key);
	return ASSAY_OK;
}

static int
parse_digests(yaml_document_t *doc, const yaml_node_t *v, const char *key,
    const struct tpm2_hash *want, struct mb_list *l)
{
	yaml_node_item_t *items;
	size_t i, j, n;
	int r;

	if ((r = seq(doc, v, key, &items, &n)) != 0)
		return r;
	l->set = 1;
	l->v = xcalloc(n + 1, sizeof(*l->v));
	for (i = 0; i < n; i++) {
		if ((r = digest_entry(yaml_document_get_node(doc, items[i]),
		    key, want, &l->v[l->n])) != 0)
			return r;
		l->n++;
	}
	qsort(l->v, l->n, sizeof(*l->v), str_cmp);
	/* Drop duplicates. */
	for (i = j = 0; i < l->n; i++) {
		if (j > 0 && strcmp(l->v[j - 1], l->v[i]) == 0) {
			free(l->v[i]);
			continue;
		}
		l->v[j++] = l->v[i];
	}
	l->n = j;
	return ASSAY_OK;
}

static int
parse_cmdlines(yaml_document_t *doc, const yaml_node_t *v,
    struct mb_policy *p)
{
	yaml_node_item_t *items;
	yaml_node_t *e;
	struct mb_cmd *c;
	const char *s, *why;
	char msg[128];
	size_t i, j, n, stars;
	int r, rc;

	if ((r = seq(doc, v, "kernel_cmdline", &items, &n)) != 0)
		return r;
	if (n == 0)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: kernel_cmdline "
		    "is empty (no command line could match)", policy_yaml_line(v));
	p->cmd_set = 1;
	p->cmd = xcalloc(n, sizeof(*p->cmd));
	for (i = 0; i < n; i++) {
		e = yaml_document_get_node(doc, items[i]);
		if ((r = policy_yaml_scalar(e, "kernel_cmdline entry", &s)) != 0)
			return r;
		c = &p->cmd[i];
		if (strncmp(s, "re:", 3) == 0) {
			if ((why = regex_unsafe(s + 3)) != NULL)
				return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: "
				    "kernel_cmdline regex '%s': %s", policy_yaml_line(e),
				    s + 3, why);
			if ((rc = regcomp(&c->re, s + 3,
			    REG_EXTENDED | REG_NOSUB)) != 0) {
				regerror(rc, &c->re, msg, sizeof(msg));
				return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: "
				    "kernel_cmdline regex '%s': %s", policy_yaml_line(e),
				    s + 3, msg);
			}
			c->kind = MB_CMD_RE;
			c->s = xstrdup(s + 3);
		} else if (strncmp(s, "glob:", 5) == 0) {
			for (j = 0, stars = 0; s[j] != '\0'; j++)
				stars += s[j] == '*';
			if (j > MB_RE_LEN_MAX + 5 || stars > MB_GLOB_STARS_MAX)
				return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: "
				    "kernel_cmdline glob longer than %d "
				    "characters or with more than %d '*'",
				    policy_yaml_line(e), MB_RE_LEN_MAX, MB_GLOB_STARS_MAX);
			c->kind = MB_CMD_GLOB;
			c->s = xstrdup(s + 5);
		} else {
			c->kind = MB_CMD_EXACT;
			c->s = xstrdup(s);
		}
		p->ncmd++;
	}
	return ASSAY_OK;
}

static int
parse_types(yaml_document_t *doc, const yaml_node_t *v, const char *key,
    struct mb_types *t)
{
	yaml_node_item_t *items;
	yaml_node_t *e;
	const char *s;
	size_t i, n;
	int r;

	if ((r = seq(doc, v, key, &items, &n)) != 0)
		return r;
	if (n > MB_EVENTS_MAX)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: %s has more "
		    "than %d entries", policy_yaml_line(v), key, MB_EVENTS_MAX);
	t->set = 1;
	t->v = xcalloc(n + 1, sizeof(*t->v));
	for (i = 0; i < n; i++) {
		e = yaml_document_get_node(doc, items[i]);
		if ((r = policy_yaml_scalar(e, "event type", &s)) != 0)
			return r;
		if (mb_event_type(s, &t->v[t->n]) != 0)
			return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: %s: "
			    "unknown event type '%s'", policy_yaml_line(e), key, s);
		t->n++;
	}
	return ASSAY_OK;
}

static int
parse_actions(yaml_document_t *doc, const yaml_node_t *v,
    struct mb_policy *p)
{
	yaml_node_item_t *items;
	yaml_node_t *e;
	const char *s;
	size_t i, n;
	int r;

	if ((r = seq(doc, v, "forbid_actions", &items, &n)) != 0)
		return r;
	if (n > MB_EVENTS_MAX)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: forbid_actions "
		    "has more than %d entries", policy_yaml_line(v), MB_EVENTS_MAX);
	p->actions_set = 1;
	p->actions = xcalloc(n + 1, sizeof(*p->actions));
	for (i = 0; i < n; i++) {
		e = yaml_document_get_node(doc, items[i]);
		if ((r = policy_yaml_scalar(e, "forbid_actions entry", &s)) != 0)
			return r;
		p->actions[p->nactions++] = xstrdup(s);
	}
	return ASSAY_OK;
}

static int
parse_secure_boot(const yaml_node_t *v, struct mb_policy *p)
{
	const char *s;
	int r;

	if ((r = policy_yaml_scalar(v, "secure_boot", &s)) != 0)
		return r;
	if (strcmp(s, "required") == 0)
		p->secure_boot = 1;
	else if (strcmp(s, "allowed") == 0)
		p->secure_boot = 0;
	else
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: secure_boot "
		    "'%s': want required or allowed", policy_yaml_line(v), s);
	return ASSAY_OK;
}

int
mb_policy_compile(yaml_document_t *doc, yaml_node_t *v, uint16_t bank,
    struct mb_policy **out)
{
	struct mb_policy *p;
	const struct tpm2_hash *h;
	yaml_node_pair_t *pair;
	yaml_node_t *kn, *vn;
	const char *s;
	int seen[NMBKEYS] = { 0 };
	size_t i;
	int r;

	*out = NULL;
	if ((h = tpm2_hash_by_alg(bank)) == NULL)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: measured_boot: "
		    "unknown policy bank", policy_yaml_line(v));
	if (v->type != YAML_MAPPING_NODE)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: measured_boot "
		    "must be a mapping", policy_yaml_line(v));
	p = xcalloc(1, sizeof(*p));
	p->bank = bank;
	for (pair = v->data.mapping.pairs.start;
	    pair < v->data.mapping.pairs.top; pair++) {
		kn = yaml_document_get_node(doc, pair->key);
		vn = yaml_document_get_node(doc, pair->value);
		if (kn == NULL || vn == NULL) {
			r = assay_err_set(ASSAY_ERR_CONFIG, "line %zu: malformed "
			    "measured_boot", policy_yaml_line(v));
			goto out;
		}
		if ((r = policy_yaml_scalar(kn, "a key", &s)) != 0)
			goto out;
		for (i = 0; i < NMBKEYS; i++)
			if (strcmp(mb_keys[i].key, s) == 0)
				break;
		if (i == NMBKEYS) {
			r = assay_err_set(ASSAY_ERR_CONFIG, "line %zu: unknown "
			    "key 'measured_boot.%s'", policy_yaml_line(kn), s);
			goto out;
		}
		/* boot_apps and allowed_boot_apps share one list. */
		if (seen[i] || (mb_keys[i].kind == K_APPS &&
		    ((struct mb_list *)((char *)p + mb_keys[i].off))->set)) {
			r = assay_err_set(ASSAY_ERR_CONFIG, "line %zu: duplicate "
			    "key 'measured_boot.%s'", policy_yaml_line(kn), s);
			goto out;
		}
		seen[i] = 1;
		switch (mb_keys[i].kind) {
		case K_SECURE_BOOT:
			r = parse_secure_boot(vn, p);
			break;
		case K_KEYDB:
			r = parse_digests(doc, vn, s, NULL,
			    (struct mb_list *)((char *)p + mb_keys[i].off));
			break;
		case K_APPS:
			r = parse_digests(doc, vn, s, h,
			    (struct mb_list *)((char *)p + mb_keys[i].off));
			break;
		case K_CMDLINE:
			r = parse_cmdlines(doc, vn, p);
			break;
		case K_TYPES:
			r = parse_types(doc, vn, s,
			    (struct mb_types *)((char *)p + mb_keys[i].off));
			break;
		case K_ACTIONS:
			r = parse_actions(doc, vn, p);
			break;
		}
		if (r != 0)
			goto out;
	}
	*out = p;
	p = NULL;
	r = ASSAY_OK;
 out:
	mb_policy_free(p);
	return r;
}

static void
list_free(struct mb_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

void
mb_policy_free(struct mb_policy *p)
{
	size_t i;

	if (p == NULL)
		return;
	list_free(&p->pk);
	list_free(&p->kek);
	list_free(&p->db);
	list_free(&p->dbx);
	list_free(&p->apps);
	list_free(&p->drivers);
	for (i = 0; i < p->ncmd; i++) {
		if (p->cmd[i].kind == MB_CMD_RE)
			regfree(&p->cmd[i].re);
		free(p->cmd[i].s);
	}
	free(p->cmd);
	free(p->require.v);
	free(p->forbid.v);
	for (i = 0; i < p->nactions; i++)
		free(p->actions[i]);
	free(p->actions);
	free(p);
}
