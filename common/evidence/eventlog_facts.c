/*
 * eventlog_facts.c — the facts a measured-boot policy judges, decoded from
 * the events of a parsed log that the quote binds (bind.h). An event's
 * type and any label in its data are covered by no digest, so which rule
 * judges an event is decided from what is bound — its PCR, its digest and
 * the data its digest is the hash of — never from a label alone:
 *
 *  - PCR 7: a UEFI_VARIABLE_DATA naming SecureBoot, PK, KEK, db or dbx is
 *    that variable whatever its type; only measurements before PCR 7's
 *    separator (found by its digest) are the firmware's, any later one
 *    (or a second one) counts as repeated, which every rule on it fails;
 *  - PCRs 2 and 4: every event whose data its digest does not hash (code:
 *    an Authenticode digest, a firmware blob) is a driver (PCR 2) or a
 *    boot application (PCR 4), whatever its type says;
 *  - PCRs 8, 9 and 12: a string is a kernel command line when its label
 *    says so, when its hashed text is GRUB's `linux` command, or when it
 *    is UTF-16 text in PCR 8 or 12; bound PCR 8 events whose data is not
 *    what their digest hashes are counted, since a command line could
 *    hide behind any of them.
 *
 * Pure: no I/O, no globals. Strings are copied; other facts point into
 * the log's buffer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/xmalloc.h"
#include "common/evidence/bind.h"
#include "common/evidence/eventlog.h"

#define EL_STRING_MAX	4096	/* decoded strings are cut here */

static const uint8_t *
bank_digest(const struct el_event *e, uint16_t bank)
{
	size_t i;

	for (i = 0; i < e->ndigests; i++)
		if (e->digest[i].alg == bank)
			return e->digest[i].d;
	return NULL;
}

static void
saw_type(struct el_facts *f, uint32_t type)
{
	size_t i;

	for (i = 0; i < f->ntypes; i++)
		if (f->types[i] == type)
			return;
	if (f->ntypes == sizeof(f->types) / sizeof(f->types[0])) {
		f->ntypes_dropped++;
		return;
	}
	f->types[f->ntypes++] = type;
}

int
el_saw(const struct el_facts *f, uint32_t type)
{
	size_t i;

	for (i = 0; i < f->ntypes; i++)
		if (f->types[i] == type)
			return 1;
	return 0;
}

static int
looks_utf16(const struct cur *d)
{
	return d->len >= 2 && d->len % 2 == 0 && d->p[0] != 0 && d->p[1] == 0;
}

char *
eventlog_string_decode(const struct cur *d)
{
	struct cur c = *d;
	size_t n, i;
	char *s;

	if (c.len > EL_STRING_MAX * 2)
		c.len = EL_STRING_MAX * 2;
	if (looks_utf16(&c))
		return efi_utf16_to_utf8(&c);
	n = c.len > EL_STRING_MAX ? EL_STRING_MAX : c.len;
	for (i = 0; i < n && c.p[i] != 0; i++)
		;
	s = xstrndup((const char *)c.p, i);
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 && s[i] != '\t')
			s[i] = '?';
	return s;
}

/* ---- PCR 7: secure boot state and key databases ---- */

static int
hash_is(uint16_t bank, const uint8_t *d, const void *p, size_t n)
{
	uint8_t md[TPM2_MAX_DIGEST];
	size_t len;

	return d != NULL && tpm2_hash(bank, p, n, md, &len) == 0 &&
	    memcmp(md, d, len) == 0;
}

/* A separator by what was extended: H(00000000) or H(FFFFFFFF). */
static int
is_separator(const struct el_event *e, uint16_t bank)
{
	static const uint8_t zero[4] = { 0 }, ones[4] = { 0xff, 0xff, 0xff, 0xff };
	const uint8_t *d = bank_digest(e, bank);

	return hash_is(bank, d, zero, 4) || hash_is(bank, d, ones, 4);
}

static int
siglist_ok(const uint8_t type[16], const uint8_t owner[16], const struct cur *sig,
    void *arg)
{
	return 0;
}

/* The key-database variable a UEFI_VARIABLE_DATA names, or NULL. */
static struct el_var *
keydb_var(struct el_facts *f, const struct efi_var *v)
{
	int gv = memcmp(v->guid, EFI_GLOBAL_VARIABLE_GUID, 16) == 0;
	int sec = memcmp(v->guid, EFI_IMAGE_SECURITY_DATABASE_GUID, 16) == 0;

	if (gv && efi_var_name_is(v, "SecureBoot"))
		return &f->sb;
	if (gv && efi_var_name_is(v, "PK"))
		return &f->pk;
	if (gv && efi_var_name_is(v, "KEK"))
		return &f->kek;
	if (sec && efi_var_name_is(v, "db"))
		return &f->db;
	if (sec && efi_var_name_is(v, "dbx"))
		return &f->dbx;
	return NULL;
}

static void
take_var(struct el_facts *f, struct el_var *v, const struct el_event *e,
    const struct efi_var *var, int keydb)
{
	if (v->present || (keydb && f->pcr7_separated)) {
		/* Firmware measures each once, before the separator. */
		v->repeated++;
		return;
	}
	v->present = 1;
	/* EV_EFI_VARIABLE_DRIVER_CONFIG: digest = H(UEFI_VARIABLE_DATA) */
	v->verified = hash_is(f->bank, bank_digest(e, f->bank), e->data.p,
	    e->data.len);
	memcpy(v->guid, var->guid, 16);
	v->data = var->data;
	v->pcr = e->pcr;
	v->digest = bank_digest(e, f->bank);
	if (v == &f->sb && v->verified)
		f->secure_boot = var->data.len >= 1 && var->data.p[0] == 1;
}

static void
fact_pcr7(struct el_facts *f, const struct el_event *e)
{
	struct el_var *kv;
	struct efi_var v;
	int shim;

	if (is_separator(e, f->bank)) {
		f->pcr7_separated = 1;
		return;
	}
	if (efi_var_parse(&e->data, &v) != 0)
		return;
	if ((kv = keydb_var(f, &v)) != NULL) {
		/*
		 * An EV_EFI_VARIABLE_AUTHORITY "db" record (one
		 * EFI_SIGNATURE_DATA) is no signature list: not the variable.
		 */
		if (kv == &f->db &&
		    efi_siglist_foreach(&v.data, siglist_ok, NULL) != 0)
			return;
		take_var(f, kv, e, &v, 1);
		return;
	}
	shim = memcmp(v.guid, EFI_SHIM_LOCK_GUID, 16) == 0;
	if (shim && efi_var_name_is(&v, "MokList") && !f->mok.present)
		take_var(f, &f->mok, e, &v, 0);
	else if (shim && efi_var_name_is(&v, "MokListX") && !f->moklistx.present)
		take_var(f, &f->moklistx, e, &v, 0);
}

/* Shim's PCR 14 EV_IPL "MokList"/"MokListX": name only, digest of the var. */
static int
fact_shim_ipl(struct el_facts *f, const struct el_event *e)
{
	struct el_var *v;

	if (e->pcr != 14)
		return 0;
	if (e->data.len == 8 && memcmp(e->data.p, "MokList", 8) == 0)
		v = &f->mok;
	else if (e->data.len == 9 && memcmp(e->data.p, "MokListX", 9) == 0)
		v = &f->moklistx;
	else
		return 0;
	if (!v->present) {
		v->present = 1;
		v->verified = 0;
		v->pcr = e->pcr;
		v->digest = bank_digest(e, f->bank);
	}
	return 1;
}

/* ---- strings and command lines ---- */

static void
add_string(struct el_facts *f, const struct el_event *e, int verified)
{
	struct el_string *s;

	if (f->nstrings == EL_MAX_ITEMS) {
		f->nstrings_dropped++;
		return;
	}
	s = &f->str[f->nstrings++];
	s->pcr = e->pcr;
	s->type = e->type;
	s->verified = verified;
	s->s = eventlog_string_decode(&e->data);
}

static int
add_cmdline(struct el_facts *f, const struct el_event *e, const struct cur *text)
{
	struct el_string *s;

	if (f->ncmdline == sizeof(f->cmdline) / sizeof(f->cmdline[0]))
		return assay_err_set(ASSAY_ERR_RANGE,
		    "event %zu: more than %zu kernel command lines", e->seq,
		    f->ncmdline);
	s = &f->cmdline[f->ncmdline++];
	s->pcr = e->pcr;
	s->type = e->type;
	s->verified = 1;
	s->s = eventlog_string_decode(text);
	return ASSAY_OK;
}

static int
has_prefix(const struct cur *c, const char *s)
{
	size_t n = strlen(s);

	return c->len >= n && memcmp(c->p, s, n) == 0;
}

/* GRUB's `linux` command: its hashed text is "linux PATH ARGS". */
static int
grub_linux_args(const struct cur *text, struct cur *args)
{
	static const char *cmd[] = { "linux ", "linuxefi ", "linux16 " };
	size_t i, n;

	for (i = 0; i < sizeof(cmd) / sizeof(cmd[0]); i++) {
		n = strlen(cmd[i]);
		if (has_prefix(text, cmd[i])) {
			args->p = text->p + n;
			args->len = text->len - n;
			return 1;
		}
	}
	return 0;
}

/* A label inside the hashed text (a loader that hashes it too) is bound. */
static void
split_label(struct cur *text, struct cur *label)
{
	static const char *pfx[] = { "kernel_cmdline: ", "grub_kernel_cmdline ",
	    "grub_cmd: ", "grub_cmd " };
	size_t i, n;

	if (label->len > 0)
		return;
	for (i = 0; i < sizeof(pfx) / sizeof(pfx[0]); i++) {
		n = strlen(pfx[i]);
		if (has_prefix(text, pfx[i])) {
			label->p = text->p;
			label->len = n;
			text->p += n;
			text->len -= n;
			return;
		}
	}
}

static int
fact_string_pcr(struct el_facts *f, const struct el_event *e)
{
	struct cur text, label, args;

	if (!eventlog_hashed_text(e, f->bank, &text, &label)) {
		if (e->pcr == 8 && f->nunjudged_cmd++ == 0)
			f->unjudged_seq = e->seq;
		return ASSAY_OK;
	}
	split_label(&text, &label);
	if (has_prefix(&label, "kernel_cmdline: ") ||
	    has_prefix(&label, "grub_kernel_cmdline "))
		return add_cmdline(f, e, &text);
	if (grub_linux_args(&text, &args))
		return add_cmdline(f, e, &args);
	if ((e->pcr == 8 || e->pcr == 12) && looks_utf16(&text))
		return add_cmdline(f, e, &text);
	add_string(f, e, 1);
	return ASSAY_OK;
}

/* Linux EFI stub tagged events; the tag id is unbound (see the header). */
static void
fact_tag(struct el_facts *f, const struct el_event *e)
{
	struct cur c = e->data;
	uint32_t id, len;

	if (e->pcr != 9 || e->type != EV_EVENT_TAG)
		return;
	if (cur_u32le(&c, &id) != 0 || cur_u32le(&c, &len) != 0 ||
	    len != cur_left(&c))
		return;
	if (id != EL_TAG_LOAD_OPTIONS && id != EL_TAG_INITRD)
		return;
	if (f->ntags == sizeof(f->tag) / sizeof(f->tag[0])) {
		f->ntags_dropped++;
		return;
	}
	f->tag[f->ntags].pcr = e->pcr;
	f->tag[f->ntags].id = id;
	f->tag[f->ntags].seq = e->seq;
	f->tag[f->ntags].digest = bank_digest(e, f->bank);
	f->ntags++;
}

/* ---- code: boot applications and drivers ---- */

static int
is_app_type(uint32_t type)
{
	return type == EV_EFI_BOOT_SERVICES_APPLICATION ||
	    type == EV_EFI_BOOT_SERVICES_DRIVER ||
	    type == EV_EFI_RUNTIME_SERVICES_DRIVER;
}

static int
fact_app(struct el_facts *f, const struct eventlog *el, const struct el_event *e)
{
	struct el_app *a;
	uint64_t ilen;

	if (f->napps == EL_MAX_ITEMS)
		return assay_err_set(ASSAY_ERR_RANGE,
		    "event %zu: more than %d boot applications and drivers",
		    e->seq, EL_MAX_ITEMS);
	a = &f->app[f->napps++];
	a->pcr = e->pcr;
	a->type = e->type;
	/* By PCR where the spec fixes it, by label elsewhere (stricter). */
	if (e->pcr == 4)
		a->kind = EL_CODE_APP;
	else if (e->pcr == 2)
		a->kind = EL_CODE_DRIVER;
	else
		a->kind = e->type == EV_EFI_BOOT_SERVICES_APPLICATION ?
		    EL_CODE_APP : EL_CODE_DRIVER;
	a->digest = bank_digest(e, f->bank);
	if (!is_app_type(e->type) || efi_image_load_parse(&e->data,
	    el->uintn_size, &ilen, &a->devpath) != 0) {
		a->devpath.p = NULL;
		a->devpath.len = 0;
	}
	return ASSAY_OK;
}

/* ---- one event ---- */

static int
fact_event(struct el_facts *f, const struct eventlog *el, const struct el_event *e)
{
	saw_type(f, e->type);
	if (e->pcr == 7)
		fact_pcr7(f, e);
	if ((e->pcr == 2 || e->pcr == 4) &&
	    (is_app_type(e->type) || !eventlog_data_bound(e, f->bank)))
		return fact_app(f, el, e);
	if (e->pcr != 2 && e->pcr != 4 && is_app_type(e->type))
		return fact_app(f, el, e);
	if (e->type == EV_IPL && fact_shim_ipl(f, e))
		return ASSAY_OK;
	if (e->pcr == 9)
		fact_tag(f, e);
	if (e->pcr == 8 || e->pcr == 9 || e->pcr == 12)
		return fact_string_pcr(f, e);
	if (e->type == EV_EFI_ACTION || e->type == EV_ACTION) {
		add_string(f, e, eventlog_data_bound(e, f->bank));
		if (e->data.len >= 15 && memcmp(e->data.p, "UEFI Debug Mode", 15) == 0)
			f->has_debugger = 1;
	}
	return ASSAY_OK;
}

int
eventlog_facts(const struct eventlog *el, uint16_t bank, uint32_t bound,
    struct el_facts *out)
{
	const struct tpm2_hash *h;
	size_t i, k;
	int r = ASSAY_OK;

	memset(out, 0, sizeof(*out));
	out->bank = bank;
	out->secure_boot = -1;
	out->el = el;
	out->bound = bound;
	for (k = 0; k < el->nalgs; k++)
		if (el->alg[k].alg == bank)
			break;
	if (k == el->nalgs) {
		h = tpm2_hash_by_alg(bank);
		return assay_err_set(ASSAY_ERR_NOT_FOUND,
		    "bank %s is not in the event log", h ? h->name : "unknown");
	}
	for (i = 0; i < el->n && r == ASSAY_OK; i++) {
		if (!bind_eventlog_event(&el->ev[i], bank, bound)) {
			out->nunbound++;	/* shown by tools, judged never */
			continue;
		}
		r = fact_event(out, el, &el->ev[i]);
	}
	if (r != ASSAY_OK)
		eventlog_facts_free(out);
	return r;
}

void
eventlog_facts_free(struct el_facts *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->ncmdline; i++)
		free(f->cmdline[i].s);
	for (i = 0; i < f->nstrings; i++)
		free(f->str[i].s);
	f->ncmdline = f->nstrings = 0;
}

/* ---- digests of strings ---- */

static int
utf16_hash_eq(uint16_t bank, const uint8_t *want, const char *s, int nul)
{
	uint8_t md[TPM2_MAX_DIGEST];
	uint8_t *u;
	size_t i, n = strlen(s), len, ulen;
	int ok;

	/* ASCII/Latin-1 command lines: one UTF-16 unit per byte */
	ulen = (n + (nul ? 1 : 0)) * 2;
	u = xcalloc(1, ulen + 1);
	for (i = 0; i < n; i++)
		u[2 * i] = (uint8_t)s[i];
	ok = tpm2_hash(bank, u, ulen, md, &len) == 0 &&
	    memcmp(md, want, len) == 0;
	free(u);
	return ok;
}

int
eventlog_bound_digest_of(const struct el_facts *f, const char *s, size_t *seq)
{
	const uint8_t *d;
	size_t i;

	if (f->el == NULL)
		return 0;
	for (i = 0; i < f->el->n; i++) {
		if (!bind_eventlog_event(&f->el->ev[i], f->bank, f->bound) ||
		    (d = bank_digest(&f->el->ev[i], f->bank)) == NULL)
			continue;
		if (hash_is(f->bank, d, s, strlen(s))) {
			*seq = f->el->ev[i].seq;
			return 1;
		}
	}
	return 0;
}

int
eventlog_tag_is_cmdline(const struct el_facts *f, size_t i, const char *cmdline)
{
	if (i >= f->ntags || f->tag[i].id != EL_TAG_LOAD_OPTIONS ||
	    f->tag[i].digest == NULL)
		return 0;
	return utf16_hash_eq(f->bank, f->tag[i].digest, cmdline, 1) ||
	    utf16_hash_eq(f->bank, f->tag[i].digest, cmdline, 0);
}

int
eventlog_loadopts_match(const struct el_facts *f, const char *cmdline)
{
	size_t i;

	for (i = 0; i < f->ntags; i++)
		if (eventlog_tag_is_cmdline(f, i, cmdline))
			return 1;
	return 0;
}
