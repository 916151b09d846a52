/*
 * eventlog.c — parse the TCG PC Client firmware event log (SHA-1
 * TCG_PCR_EVENT logs and crypto-agile TCG_PCR_EVENT2 logs behind a Spec ID
 * Event03), replay every bank, compare with quoted PCRs, and decide
 * whether an event's digest is the hash of its data. Pure: bytes in,
 * events and digests out; events point into the caller's buffer.
 *
 * Choices, with the reason for each:
 * - PCR 0 starts at 00..0L where L is the StartupLocality event's
 *   locality (PFP 10.4.5.3; 4 after an H-CRTM sequence); without that
 *   event at zeros. EV_EFI_HCRTM_EVENT events are extended like others.
 *   PCRs 17-22 start at all ones (PFP, DRTM PCRs), the rest at zeros.
 * - EV_NO_ACTION events are never extended, whatever their PCR (TDX CCEL
 *   logs put them in other indices). Events whose PCR index is 24 or more
 *   (Windows logs carry one at 0xFFFFFFFF) are kept but not extended.
 * - A tail made only of 0x00 or only of 0xff bytes after the last event
 *   is padding (the ACPI TPM2/CCEL log areas are read whole, erased flash
 *   reads as 0xff); any other trailing bytes are an error.
 * - The Spec ID Event03 is recognised in any PCR (TDX CCEL logs use MR
 *   index 1) and its digest is not checked (never extended). An event may
 *   carry fewer digests than the Spec ID event announced (Windows extends
 *   PCRs 11-14 in the sha256 bank only): only the banks present are
 *   extended, as the TPM does for TPM2_PCR_Extend.
 * - EV_EFI_VARIABLE_BOOT: the PFP defines the digest over the whole
 *   UEFI_VARIABLE_DATA, but EDK2-derived firmware (and the TCG's own later
 *   EV_EFI_VARIABLE_BOOT2 rationale) hash VariableData only; both count.
 *   Facts never read a variable from such an event, so the uncovered
 *   name cannot relabel a key database.
 * - EV_IPL: the digest is the hash of the data (systemd-boot's UTF-16
 *   load options), of the data without its NUL, or, for GRUB's strings
 *   ("grub_cmd: ", "kernel_cmdline: ", "module_cmdline: "), of the text
 *   after the prefix. Shim's PCR 14 EV_IPL events ("MokList") hash the
 *   variable, not the string: they do not match.
 */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/xmalloc.h"
#include "common/evidence/eventlog.h"

#define SPEC_ID_SIG_LEN		16
#define SHA1_EVENT_HDR		(4 + 4 + 20 + 4)

enum data_rule {
	DR_NONE = 0,		/* the spec does not define digest = H(data) */
	DR_DATA,		/* digest = H(data) */
	DR_VARBOOT,		/* H(UEFI_VARIABLE_DATA) or H(VariableData) */
	DR_IPL,			/* see the header comment */
};

static const struct el_type {
	uint32_t	 type;
	const char	*name;
	enum data_rule	 rule;
} el_types[] = {
	{ EV_PREBOOT_CERT,		"EV_PREBOOT_CERT",		DR_NONE },
	{ EV_POST_CODE,			"EV_POST_CODE",			DR_NONE },
	{ 0x00000002u,			"EV_UNUSED",			DR_NONE },
	{ EV_NO_ACTION,			"EV_NO_ACTION",			DR_NONE },
	{ EV_SEPARATOR,			"EV_SEPARATOR",			DR_DATA },
	{ EV_ACTION,			"EV_ACTION",			DR_DATA },
	{ EV_EVENT_TAG,			"EV_EVENT_TAG",			DR_NONE },
	{ EV_S_CRTM_CONTENTS,		"EV_S_CRTM_CONTENTS",		DR_NONE },
	{ EV_S_CRTM_VERSION,		"EV_S_CRTM_VERSION",		DR_NONE },
	{ EV_CPU_MICROCODE,		"EV_CPU_MICROCODE",		DR_NONE },
	{ EV_PLATFORM_CONFIG_FLAGS,	"EV_PLATFORM_CONFIG_FLAGS",	DR_NONE },
	{ EV_TABLE_OF_DEVICES,		"EV_TABLE_OF_DEVICES",		DR_NONE },
	{ EV_COMPACT_HASH,		"EV_COMPACT_HASH",		DR_NONE },
	{ EV_IPL,			"EV_IPL",			DR_IPL },
	{ EV_IPL_PARTITION_DATA,	"EV_IPL_PARTITION_DATA",	DR_NONE },
	{ EV_NONHOST_CODE,		"EV_NONHOST_CODE",		DR_NONE },
	{ EV_NONHOST_CONFIG,		"EV_NONHOST_CONFIG",		DR_NONE },
	{ EV_NONHOST_INFO,		"EV_NONHOST_INFO",		DR_NONE },
	{ EV_OMIT_BOOT_DEVICE_EVENTS,	"EV_OMIT_BOOT_DEVICE_EVENTS",	DR_DATA },
	{ EV_EFI_EVENT_BASE,		"EV_EFI_EVENT_BASE",		DR_NONE },
	{ EV_EFI_VARIABLE_DRIVER_CONFIG, "EV_EFI_VARIABLE_DRIVER_CONFIG", DR_DATA },
	{ EV_EFI_VARIABLE_BOOT,		"EV_EFI_VARIABLE_BOOT",		DR_VARBOOT },
	{ EV_EFI_BOOT_SERVICES_APPLICATION, "EV_EFI_BOOT_SERVICES_APPLICATION", DR_NONE },
	{ EV_EFI_BOOT_SERVICES_DRIVER,	"EV_EFI_BOOT_SERVICES_DRIVER",	DR_NONE },
	{ EV_EFI_RUNTIME_SERVICES_DRIVER, "EV_EFI_RUNTIME_SERVICES_DRIVER", DR_NONE },
	{ EV_EFI_GPT_EVENT,		"EV_EFI_GPT_EVENT",		DR_DATA },
	{ EV_EFI_ACTION,		"EV_EFI_ACTION",		DR_DATA },
	{ EV_EFI_PLATFORM_FIRMWARE_BLOB, "EV_EFI_PLATFORM_FIRMWARE_BLOB", DR_NONE },
	{ EV_EFI_HANDOFF_TABLES,	"EV_EFI_HANDOFF_TABLES",	DR_NONE },
	{ EV_EFI_PLATFORM_FIRMWARE_BLOB2, "EV_EFI_PLATFORM_FIRMWARE_BLOB2", DR_NONE },
	{ EV_EFI_HANDOFF_TABLES2,	"EV_EFI_HANDOFF_TABLES2",	DR_NONE },
	{ EV_EFI_VARIABLE_BOOT2,	"EV_EFI_VARIABLE_BOOT2",	DR_DATA },
	{ EV_EFI_HCRTM_EVENT,		"EV_EFI_HCRTM_EVENT",		DR_NONE },
	{ EV_EFI_VARIABLE_AUTHORITY,	"EV_EFI_VARIABLE_AUTHORITY",	DR_DATA },
	{ EV_EFI_SPDM_FIRMWARE_BLOB,	"EV_EFI_SPDM_FIRMWARE_BLOB",	DR_NONE },
	{ EV_EFI_SPDM_FIRMWARE_CONFIG,	"EV_EFI_SPDM_FIRMWARE_CONFIG",	DR_NONE },
};

static const struct el_type *
type_lookup(uint32_t type)
{
	size_t i;

	for (i = 0; i < sizeof(el_types) / sizeof(el_types[0]); i++)
		if (el_types[i].type == type)
			return &el_types[i];
	return NULL;
}

const char *
eventlog_type_name(uint32_t type)
{
	const struct el_type *t = type_lookup(type);

	return t == NULL ? NULL : t->name;
}

static int
is_fill(const uint8_t *p, size_t n, uint8_t v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

static int
cur_has_prefix(const struct cur *c, const char *s, size_t n)
{
	return c->len >= n && memcmp(c->p, s, n) == 0;
}

/* TCG_EfiSpecIdEvent "Spec ID Event03" (crypto-agile). */
static int
parse_spec_id03(struct cur d, struct eventlog *el)
{
	const struct tpm2_hash *h;
	uint32_t nalg;
	uint16_t alg, size;
	uint8_t vsize;
	size_t i, j;
	int r;

	if ((r = cur_skip(&d, SPEC_ID_SIG_LEN)) != 0 ||
	    (r = cur_u32le(&d, &el->platform_class)) != 0 ||
	    (r = cur_u8(&d, &el->spec_minor)) != 0 ||
	    (r = cur_u8(&d, &el->spec_major)) != 0 ||
	    (r = cur_u8(&d, &el->spec_errata)) != 0 ||
	    (r = cur_u8(&d, &el->uintn_size)) != 0 ||
	    (r = cur_u32le(&d, &nalg)) != 0)
		return assay_err_set(ASSAY_ERR_TRUNCATED,
		    "Spec ID event: header truncated");
	if (nalg == 0 || nalg > TPM2_MAX_BANKS)
		return assay_err_set(ASSAY_ERR_FORMAT,
		    "Spec ID event: %u algorithms (1-%d allowed)", nalg,
		    TPM2_MAX_BANKS);
	for (i = 0; i < nalg; i++) {
		if (cur_u16le(&d, &alg) != 0 || cur_u16le(&d, &size) != 0)
			return assay_err_set(ASSAY_ERR_TRUNCATED,
			    "Spec ID event: algorithm list truncated");
		if ((h = tpm2_hash_by_alg(alg)) == NULL)
			return assay_err_set(ASSAY_ERR_FORMAT,
			    "Spec ID event: unknown bank 0x%04x (digest size %u)",
			    alg, size);
		if (h->size != size)
			return assay_err_set(ASSAY_ERR_FORMAT,
			    "Spec ID event: bank %s with digest size %u (not %zu)",
			    h->name, size, h->size);
		for (j = 0; j < i; j++)
			if (el->alg[j].alg == alg)
				return assay_err_set(ASSAY_ERR_FORMAT,
				    "Spec ID event: bank %s listed twice", h->name);
		el->alg[i].alg = alg;
		el->alg[i].size = size;
	}
	el->nalgs = nalg;
	if (cur_u8(&d, &vsize) != 0 || cur_bytes(&d, vsize, &el->vendor_info) != 0)
		return assay_err_set(ASSAY_ERR_TRUNCATED,
		    "Spec ID event: vendor info truncated");
	if (cur_end(&d) != 0)
		return assay_err_set(ASSAY_ERR_FORMAT,
		    "Spec ID event: %zu bytes after the vendor info", cur_left(&d));
	if (el->uintn_size != 1 && el->uintn_size != 2)
		return assay_err_set(ASSAY_ERR_FORMAT,
		    "Spec ID event: uintnSize %u (1 or 2 allowed)", el->uintn_size);
	return ASSAY_OK;
}

/*
 * TCG_EfiSpecIdEventStruct of SHA-1 logs ("Spec ID Event00"/"02"): no
 * algorithm list. Returns 1 if it parsed (then it is not an event).
 */
static int
parse_spec_id00(struct cur d, struct eventlog *el)
{
	uint32_t pc;
	uint8_t mi, ma, er, un, vsize;
	struct cur vi;

	if (cur_skip(&d, SPEC_ID_SIG_LEN) != 0 || cur_u32le(&d, &pc) != 0 ||
	    cur_u8(&d, &mi) != 0 || cur_u8(&d, &ma) != 0 ||
	    cur_u8(&d, &er) != 0 || cur_u8(&d, &un) != 0 ||
	    cur_u8(&d, &vsize) != 0 || cur_bytes(&d, vsize, &vi) != 0 ||
	    cur_end(&d) != 0)
		return 0;
	el->platform_class = pc;
	el->spec_minor = mi;
	el->spec_major = ma;
	el->spec_errata = er;
	el->uintn_size = un;
	el->vendor_info = vi;
	return 1;
}

static void
note_locality(struct eventlog *el, const struct el_event *e)
{
	static const char sig[] = "StartupLocality";	/* 15 chars + NUL */

	if (e->type != EV_NO_ACTION || e->pcr != 0 || el->has_locality)
		return;
	if (e->data.len != sizeof(sig) + 1 ||
	    memcmp(e->data.p, sig, sizeof(sig)) != 0)
		return;
	el->has_locality = 1;
	el->startup_locality = e->data.p[sizeof(sig)];
}

/* One event body after pcr and type: digests (agile or SHA-1), data. */
static int
parse_event(struct cur *c, struct eventlog *el, struct el_event *e,
    size_t total)
{
	const struct tpm2_hash *h;
	struct cur dg;
	uint32_t count, size;
	uint16_t alg;
	size_t i, j, k;

	if (!el->agile) {
		if (cur_bytes(c, 20, &dg) != 0)
			goto trunc;
		e->ndigests = 1;
		e->digest[0].alg = TPM2_ALG_SHA1;
		e->digest[0].d = dg.p;
	} else {
		if (cur_u32le(c, &count) != 0)
			goto trunc;
		if (count == 0 || count > el->nalgs)
			return assay_err_set(ASSAY_ERR_FORMAT,
			    "event %zu at offset %zu: %u digests (the Spec ID "
			    "event announced %zu banks)", e->seq, e->offset,
			    count, el->nalgs);
		for (i = 0; i < count; i++) {
			if (cur_u16le(c, &alg) != 0)
				goto trunc;
			for (k = 0; k < el->nalgs; k++)
				if (el->alg[k].alg == alg)
					break;
			if (k == el->nalgs) {
				h = tpm2_hash_by_alg(alg);
				return assay_err_set(ASSAY_ERR_FORMAT,
				    "event %zu at offset %zu: digest of bank %s%s"
				    "0x%04x the Spec ID event did not announce",
				    e->seq, e->offset, h ? h->name : "",
				    h ? " " : "", alg);
			}
			for (j = 0; j < i; j++)
				if (e->digest[j].alg == alg)
					return assay_err_set(ASSAY_ERR_FORMAT,
					    "event %zu at offset %zu: two digests "
					    "of bank 0x%04x", e->seq, e->offset, alg);
			if (cur_bytes(c, el->alg[k].size, &dg) != 0)
				goto trunc;
			e->digest[i].alg = alg;
			e->digest[i].d = dg.p;
		}
		e->ndigests = count;
	}
	if (cur_u32le(c, &size) != 0)
		goto trunc;
	if (size > EL_EVENT_DATA_MAX)
		return assay_err_set(ASSAY_ERR_FORMAT,
		    "event %zu at offset %zu: data size %u over the %u limit",
		    e->seq, e->offset, size, EL_EVENT_DATA_MAX);
	if (cur_bytes(c, size, &e->data) != 0)
		return assay_err_set(ASSAY_ERR_TRUNCATED,
		    "event %zu at offset %zu: data size %u larger than the %zu "
		    "bytes left", e->seq, e->offset, size, cur_left(c));
	return ASSAY_OK;
 trunc:
	return assay_err_set(ASSAY_ERR_TRUNCATED,
	    "event %zu at offset %zu: truncated (log ends at %zu)", e->seq,
	    e->offset, total);
}

/*
 * The first event, always in the SHA-1 format: a Spec ID event sets the
 * log's format (*specid = 1); any other leaves c rewound to read it again.
 */
static int
parse_first_event(struct cur *c, const uint8_t *p, size_t n,
    struct eventlog *el, int *specid)
{
	struct el_event first;
	struct cur d0;
	int r;

	memset(&first, 0, sizeof(first));
	if (cur_u32le(c, &first.pcr) != 0 || cur_u32le(c, &first.type) != 0)
		return assay_err_set(ASSAY_ERR_TRUNCATED,
		    "event 0 at offset 0: truncated (log is %zu bytes)", n);
	if ((r = parse_event(c, el, &first, n)) != 0)
		return r;
	d0 = first.data;
	/* Any PCR index: TDX CCEL logs put the Spec ID event at MR 1. */
	if (first.type == EV_NO_ACTION &&
	    cur_has_prefix(&d0, "Spec ID Event03", SPEC_ID_SIG_LEN)) {
		el->agile = *specid = 1;
		return parse_spec_id03(d0, el);
	}
	el->nalgs = 1;
	el->alg[0].alg = TPM2_ALG_SHA1;
	el->alg[0].size = 20;
	el->uintn_size = 2;
	if (!(first.type == EV_NO_ACTION && first.pcr == 0 &&
	    (cur_has_prefix(&d0, "Spec ID Event00", SPEC_ID_SIG_LEN) ||
	    cur_has_prefix(&d0, "Spec ID Event02", SPEC_ID_SIG_LEN)) &&
	    parse_spec_id00(d0, el))) {
		/* An ordinary first event: rewind and read it again. */
		cur_init(c, p, n);
	} else
		*specid = 1;
	return ASSAY_OK;
}

/* Parse the event at offset off (c at it) and append it to el->ev. */
static int
parse_next_event(struct cur *c, struct eventlog *el, size_t *cap,
    size_t off, size_t n)
{
	struct el_event *e;
	int r;

	if (el->n == EL_MAX_EVENTS)
		return assay_err_set(ASSAY_ERR_RANGE,
		    "more than %d events", EL_MAX_EVENTS);
	if (el->n == *cap) {
		*cap = *cap == 0 ? 128 : *cap * 2;
		el->ev = xreallocarray(el->ev, *cap, sizeof(*el->ev));
	}
	e = &el->ev[el->n];
	memset(e, 0, sizeof(*e));
	e->seq = el->n;
	e->offset = off;
	if (cur_u32le(c, &e->pcr) != 0 || cur_u32le(c, &e->type) != 0)
		return assay_err_set(ASSAY_ERR_FORMAT,
		    "trailing garbage: %zu bytes at offset %zu are not an "
		    "event", cur_left(c), off);
	if ((r = parse_event(c, el, e, n)) != 0)
		return r;
	if (e->type == EV_NO_ACTION && e->pcr == 0 && el->has_locality &&
	    cur_has_prefix(&e->data, "StartupLocality", 16))
		return assay_err_set(ASSAY_ERR_FORMAT,
		    "event %zu at offset %zu: a second StartupLocality "
		    "event", e->seq, e->offset);
	note_locality(el, e);
	el->n++;
	return ASSAY_OK;
}

int
eventlog_parse(const uint8_t *p, size_t n, struct eventlog *out)
{
	struct eventlog el;
	struct cur c;
	size_t cap = 0, off;
	int r, specid = 0;

	memset(out, 0, sizeof(*out));
	memset(&el, 0, sizeof(el));
	if (n == 0)
		return assay_err_set(ASSAY_ERR_FORMAT, "event log is empty");
	cur_init(&c, p, n);
	if ((r = parse_first_event(&c, p, n, &el, &specid)) != 0)
		goto out;
	while (cur_left(&c) > 0) {
		off = n - cur_left(&c);
		if (is_fill(c.p, c.len, 0x00) || is_fill(c.p, c.len, 0xff))
			break;		/* padding after the last event */
		if ((r = parse_next_event(&c, &el, &cap, off, n)) != 0)
			goto out;
	}
	/*
	 * A Spec ID event alone is a valid log (firmware that measured
	 * nothing): it replays to the initial values and the policy judges.
	 * Without one, no events (only padding) is no log at all.
	 */
	if (el.n == 0 && !specid) {
		r = assay_err_set(ASSAY_ERR_FORMAT, "event log has neither a Spec "
		    "ID event nor events (only padding)");
		goto out;
	}
	*out = el;
	el.ev = NULL;
	r = ASSAY_OK;
 out:
	free(el.ev);
	return r;
}

void
eventlog_free(struct eventlog *el)
{
	if (el == NULL)
		return;
	free(el->ev);
	memset(el, 0, sizeof(*el));
}

static int
extend(uint16_t alg, uint8_t *pcr, const uint8_t *d, size_t len)
{
	EVP_MD_CTX *ctx;
	const EVP_MD *md;
	unsigned int outlen;
	int ok;

	if ((md = tpm2_hash_md(alg)) == NULL)
		return assay_err_set(ASSAY_ERR_UNSUPPORTED,
		    "bank 0x%04x: hash not available", alg);
	ctx = EVP_MD_CTX_new();
	ok = ctx != NULL && EVP_DigestInit_ex(ctx, md, NULL) == 1 &&
	    EVP_DigestUpdate(ctx, pcr, len) == 1 &&
	    EVP_DigestUpdate(ctx, d, len) == 1 &&
	    EVP_DigestFinal_ex(ctx, pcr, &outlen) == 1 && outlen == len;
	EVP_MD_CTX_free(ctx);
	return ok ? ASSAY_OK : assay_err_set(ASSAY_ERR_CRYPTO,
	    "bank 0x%04x: extend failed", alg);
}

int
eventlog_replay(const struct eventlog *el, struct el_pcrs *out)
{
	const struct el_event *e;
	size_t b, i, k, len;
	int r;

	memset(out, 0, sizeof(*out));
	for (b = 0; b < el->nalgs; b++) {
		out->bank[b].alg = el->alg[b].alg;
		len = el->alg[b].size;
		for (i = 17; i <= 22; i++)
			memset(out->bank[b].v[i], 0xff, len);
		if (el->has_locality)
			out->bank[b].v[0][len - 1] = el->startup_locality;
	}
	out->nbanks = el->nalgs;
	for (i = 0; i < el->n; i++) {
		e = &el->ev[i];
		if (e->type == EV_NO_ACTION || e->pcr >= TPM2_PCR_COUNT)
			continue;
		for (k = 0; k < e->ndigests; k++) {
			for (b = 0; b < el->nalgs; b++)
				if (el->alg[b].alg == e->digest[k].alg)
					break;
			if (b == el->nalgs)
				continue;	/* parse guarantees it is there */
			if ((r = extend(el->alg[b].alg, out->bank[b].v[e->pcr],
			    e->digest[k].d, el->alg[b].size)) != 0)
				return r;
			out->bank[b].touched |= 1u << e->pcr;
		}
	}
	return ASSAY_OK;
}

static void
hex_short(const uint8_t *d, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	size_t i, m = n > 16 ? 16 : n;

	for (i = 0; i < m; i++) {
		out[2 * i] = hx[d[i] >> 4];
		out[2 * i + 1] = hx[d[i] & 15];
	}
	out[2 * m] = '\0';
	if (m < n)
		strcat(out, "...");
}

void
eventlog_check_pcrs(const struct el_pcrs *rp, const struct pcr_values *quoted,
    const struct pcr_selection *sel, uint32_t cover, struct verdict *vd)
{
	const struct tpm2_hash *h;
	const uint8_t *q;
	char a[40], b[40];
	size_t s, k;
	unsigned i;

	for (s = 0; s < sel->n; s++) {
		h = tpm2_hash_by_alg(sel->bank[s].hash);
		for (k = 0; k < rp->nbanks; k++)
			if (rp->bank[k].alg == sel->bank[s].hash)
				break;
		if (k == rp->nbanks || h == NULL) {
			verdict_fail(vd, FID_EVENTLOG_REPLAY, "bank %s is quoted "
			    "but the event log does not carry it",
			    h ? h->name : "unknown");
			continue;
		}
		for (i = 0; i < TPM2_PCR_COUNT; i++) {
			/* Untouched PCRs too: a log may not drop their events. */
			if (!(sel->bank[s].mask & (cover | rp->bank[k].touched) &
			    (1u << i)))
				continue;
			if ((q = pcr_values_get(quoted, sel->bank[s].hash, i)) ==
			    NULL) {
				verdict_fail(vd, FID_EVENTLOG_REPLAY, "PCR %u in "
				    "bank %s: no quoted value", i, h->name);
				continue;
			}
			if (memcmp(q, rp->bank[k].v[i], h->size) == 0)
				continue;
			hex_short(rp->bank[k].v[i], h->size, a);
			hex_short(q, h->size, b);
			verdict_fail(vd, FID_EVENTLOG_REPLAY, "PCR %u in bank %s: "
			    "event log replays to %s, quote has %s", i, h->name,
			    a, b);
		}
	}
}

static int
hash_eq(uint16_t alg, const uint8_t *want, const uint8_t *p, size_t n)
{
	uint8_t md[TPM2_MAX_DIGEST];
	size_t len;

	if (tpm2_hash(alg, p, n, md, &len) != 0)
		return 0;
	return memcmp(md, want, len) == 0;
}

/*
 * The part of an event's data its digest is the hash of, whatever its
 * type says: the whole data, the data without a trailing NUL, or the text
 * after a boot loader's label prefix. 1 and the parts, or 0.
 */
int
eventlog_hashed_text(const struct el_event *e, uint16_t alg, struct cur *text,
    struct cur *label)
{
	static const char *grub_prefix[] = {
		"grub_cmd: ", "kernel_cmdline: ", "module_cmdline: ",
		"grub_kernel_cmdline ", "grub_cmd ",
	};
	const uint8_t *p = e->data.p, *d = NULL;
	size_t n = e->data.len, i, k, bare, hl, pl;

	for (i = 0; i < e->ndigests; i++)
		if (e->digest[i].alg == alg)
			d = e->digest[i].d;
	if (d == NULL)
		return 0;
	label->p = p;
	label->len = 0;
	text->p = p;
	text->len = n;
	if (hash_eq(alg, d, p, n))
		return 1;
	if (n > 0 && p[n - 1] == '\0') {
		text->len = n - 1;
		if (hash_eq(alg, d, p, n - 1))
			return 1;
	}
	/* after the prefix, without or (older GRUB) with the NUL */
	bare = n > 0 && p[n - 1] == '\0' ? n - 1 : n;
	for (k = 0; k < 2; k++) {
		hl = k == 0 ? bare : n;
		if (k == 1 && hl == bare)
			break;
		for (i = 0; i < sizeof(grub_prefix) / sizeof(grub_prefix[0]); i++) {
			pl = strlen(grub_prefix[i]);
			if (bare >= pl && memcmp(p, grub_prefix[i], pl) == 0 &&
			    hash_eq(alg, d, p + pl, hl - pl)) {
				label->len = pl;
				text->p = p + pl;
				text->len = bare - pl;
				return 1;
			}
		}
	}
	return 0;
}

static int
ipl_matches(const struct el_event *e, uint16_t alg)
{
	struct cur text, label;

	return eventlog_hashed_text(e, alg, &text, &label);
}

int
eventlog_data_bound(const struct el_event *e, uint16_t alg)
{
	struct cur text, label;
	struct efi_var v;
	const uint8_t *d = NULL;

	if (eventlog_hashed_text(e, alg, &text, &label))
		return 1;
	for (size_t i = 0; i < e->ndigests; i++)
		if (e->digest[i].alg == alg)
			d = e->digest[i].d;
	return d != NULL && efi_var_parse(&e->data, &v) == 0 &&
	    hash_eq(alg, d, v.data.p, v.data.len);
}

int
eventlog_data_matches(const struct el_event *e, uint16_t alg)
{
	const struct el_type *t = type_lookup(e->type);
	struct efi_var v;
	const uint8_t *d = NULL;
	size_t i;

	if (t == NULL || t->rule == DR_NONE)
		return -1;
	for (i = 0; i < e->ndigests; i++)
		if (e->digest[i].alg == alg)
			d = e->digest[i].d;
	if (d == NULL)
		return 0;
	switch (t->rule) {
	case DR_DATA:
		return hash_eq(alg, d, e->data.p, e->data.len);
	case DR_VARBOOT:
		if (hash_eq(alg, d, e->data.p, e->data.len))
			return 1;
		if (efi_var_parse(&e->data, &v) != 0)
			return 0;
		return hash_eq(alg, d, v.data.p, v.data.len);
	case DR_IPL:
		return ipl_matches(e, alg);
	default:
		return -1;
	}
}
