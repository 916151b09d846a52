/*
 * fw_eventlog.c — a test helper that plays the firmware (and, with the
 * attack options, a root attacker) for an agent's swtpm: it writes a TCG
 * crypto-agile event log (Spec ID Event03, sha1 and sha256 banks) with the
 * events a measured-boot policy looks at, and extends the swtpm's PCRs
 * with the same digests.
 *
 *   fw_eventlog -t TCTI -o LOG [-s 0|1] [-c CMDLINE] [-G] [-a APP[=SHOWN]]...
 *               [-x DBXHEX]... [-T] [-n] [-B] [-e SPEC]... [-D PCR]...
 *               [-O PCR]... [-U PCR]... [-C BYTES] [-V VAR:PCR] [-k]
 *               [-L SPEC]...
 *
 * The genuine boot:
 *   -s  SecureBoot value measured into PCR 7 (default 1)
 *   -c  kernel command line, measured GRUB-style as EV_IPL in PCR 8: data
 *       "kernel_cmdline: CMDLINE\0", digest = hash of all of it (label
 *       and NUL included; real GRUB does not hash them, see -G)
 *   -G  -c is measured the way real GRUB (2.04+) does it: first the
 *       command event "grub_cmd: linux PATH ARGS\0" (digest = hash of
 *       "linux PATH ARGS"), then "kernel_cmdline: CMDLINE\0" (digest =
 *       hash of CMDLINE); both EV_IPL in PCR 8, label and NUL unhashed.
 *       PATH and ARGS come from CMDLINE "BOOT_IMAGE=PATH ARGS" (GRUB
 *       prepends BOOT_IMAGE=PATH); without it PATH is /vmlinuz and ARGS
 *       all of CMDLINE
 *   -a  a boot application named APP (Authenticode digest = H("app:" APP),
 *       device path \EFI\APP.efi); APP=SHOWN extends APP's digest but logs
 *       SHOWN's digest and path (a log rewritten to show an allowed app)
 *   -x  a SHA-256 revocation in dbx
 *   -e  one more event after the standard ones (repeatable, in order):
 *         [pcr=N,][type=T,][mode=both|log|extend,][bank=B,][repeat=R,]KIND=TEXT
 *       N decimal or 0x hex (0xffffffff, 16, 23, 24... allowed); T a TCG
 *       name (EV_IPL, EV_NO_ACTION, EV_EVENT_TAG, EV_EFI_ACTION...) or 0x
 *       hex; mode log = only written to the log, extend = only extended
 *       (a dropped event); events at PCR 24+ and EV_NO_ACTION events are
 *       never extended. bank=sha1 or bank=sha256: the event carries only
 *       that bank's digest and only that bank is extended (the Spec ID
 *       event still announces both). repeat=R queues R identical events.
 *       KIND (default PCR and type in brackets):
 *         loadopts  Linux EFI stub EV_EVENT_TAG 0x8F3B22ED, data "tag id,
 *                   len, LOADED_IMAGE::LoadOptions\0", digest = hash of
 *                   TEXT in UTF-16LE with a terminating NUL   [9, EV_EVENT_TAG]
 *         cmdline   GRUB "kernel_cmdline: TEXT\0"              [8, EV_IPL]
 *                   (digest = hash of all of it, as -c)
 *         grub_cmdline  real GRUB "kernel_cmdline: TEXT\0", digest =
 *                   hash of TEXT only (as -G)             [8, EV_IPL]
 *         grub_cmd  real GRUB "grub_cmd: TEXT\0", digest = hash of TEXT
 *                                                         [8, EV_IPL]
 *         ipl       "TEXT\0" (e.g. shim's MokList)             [14, EV_IPL]
 *         utf16     TEXT in UTF-16LE (systemd load options)    [12, EV_IPL]
 *         action    "TEXT" without NUL                         [5, EV_EFI_ACTION]
 *         var       NAME:VALUE, a UEFI_VARIABLE_DATA: SecureBoot:0|1, or
 *                   PK/KEK/db/dbx holding one stand-in certificate "assay
 *                   test VALUE certificate"       [7, EV_EFI_VARIABLE_DRIVER_CONFIG]
 *         data      "TEXT" without NUL                         [0, EV_POST_CODE]
 *       every other digest is the bank hash of the event data.
 *
 * Attacks on the log (the TPM always gets the genuine extends):
 *   -T  the log carries another sha256 digest for the first application
 *   -n  write the log only, extend nothing
 *   -B  the boot happened already: the standard events are logged but not
 *       extended; -e events are extended (an attacker appending events
 *       after boot). The log is written before anything is extended.
 *   -D  drop every event of this (logged) PCR from the log (repeatable)
 *   -O  swap the first two logged events of this PCR in the log
 *   -U  write the first logged event of this PCR twice
 *   -C  cut this many bytes off the end of the log (mid-event)
 *   -V  log the PCR 7 variable VAR (SecureBoot, PK, KEK, db, dbx) at
 *       another PCR (still extended at 7)
 *   -k  the PK certificate bytes in the log are altered; its digests
 *       (logged and extended) are those of the genuine PK
 *   -L  relabel one queued event (standard or -e) in the log only: what
 *       is extended and the logged digests stay (repeatable, in order):
 *         pcr=N[,nth=K][,type=T][,unlabel][,flip=OFF][,nul][,data=TEXT]
 *       the K-th event (default 1; negative counts from the end: -1 is
 *       the last) logged at PCR N, counting standard and -e events in
 *       the order they are queued (PCR 7: SecureBoot, PK, KEK, db, dbx,
 *       separator, then -e events; PCR 4: separator, then the -a apps;
 *       PCR 8: the -c event(s), -G's grub_cmd first). Edits, applied in
 *       this order: data=TEXT replaces the data with TEXT, no NUL (must
 *       come last); unlabel keeps only what follows the first ": " of
 *       the data, without a trailing NUL (a GRUB string becomes its hashed
 *       text); nul appends a NUL; flip=OFF XORs data byte OFF with 0x01;
 *       type=T writes type T (T as for -e).
 * The log is written to LOG.tmp and renamed, so a reader never sees half.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/tpm.h"
#include "common/buf.h"
#include "common/encode.h"
#include "common/err.h"
#include "common/evidence/eventlog.h"
#include "common/evidence/tpm2.h"
#include "common/xmalloc.h"

#define NBANKS	2
#define MAXLIST	32

static const uint16_t banks[NBANKS] = { TPM2_ALG_SHA1, TPM2_ALG_SHA256 };
static struct tpm_cfg tpm;
static int no_extend, base_logonly, tamper, tampered, tamper_pk;
static const char *moved_var;
static uint32_t moved_pcr;

enum { M_BOTH, M_LOG, M_EXTEND };

struct fwev {
	uint32_t	 pcr;		/* PCR extended */
	uint32_t	 log_pcr;	/* PCR written in the log */
	uint32_t	 type;
	uint8_t		*data;
	size_t		 len;
	uint8_t		 ext[NBANKS][32];	/* digests extended */
	uint8_t		 logged[NBANKS][32];	/* digests written in the log */
	int		 do_log, do_ext;
	unsigned	 banks;		/* bit i: banks[i] logged and extended */
};
static struct fwev *evs;
static size_t nevs;
static int cur_mode = M_BOTH;	/* mode of the events being added */
static unsigned cur_banks = (1u << NBANKS) - 1;	/* banks of the events being added */

/* GUIDs in their in-memory (mixed-endian) byte order */
static const uint8_t efi_global[16] = { 0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2,
    0x11, 0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c };
static const uint8_t efi_secdb[16] = { 0xcb, 0xb2, 0x19, 0xd7, 0x3a, 0x3d, 0x96,
    0x45, 0xa3, 0xbc, 0xda, 0xd0, 0x0e, 0x67, 0x65, 0x6f };
static const uint8_t cert_x509[16] = { 0xa1, 0x59, 0xc0, 0xa5, 0xe4, 0x94, 0xa7,
    0x4a, 0x87, 0xb5, 0xab, 0x15, 0x5c, 0x2b, 0xf0, 0x72 };
static const uint8_t cert_sha256[16] = { 0x26, 0x16, 0xc4, 0xc1, 0x4c, 0x50, 0x92,
    0x40, 0xac, 0xa9, 0x41, 0xf9, 0x36, 0x93, 0x43, 0x28 };
static const uint8_t owner[16] = { 'a', 's', 's', 'a', 'y', '-', 't', 'e', 's',
    't', '-', 'o', 'w', 'n', 'e', 'r' };

static void __attribute__((noreturn))
die(const char *what)
{
	fprintf(stderr, "fw_eventlog: %s: %s\n", what, assay_err_detail());
	exit(1);
}

static void __attribute__((noreturn))
dief(const char *what, const char *arg)
{
	fprintf(stderr, "fw_eventlog: %s: %s\n", what, arg);
	exit(2);
}

static void
le32(struct buf *b, uint32_t v)
{
	uint8_t x[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };

	buf_put(b, x, 4);
}

static void
le64(struct buf *b, uint64_t v)
{
	le32(b, (uint32_t)v);
	le32(b, (uint32_t)(v >> 32));
}

static void
le16(struct buf *b, uint16_t v)
{
	uint8_t x[2] = { v & 0xff, v >> 8 };

	buf_put(b, x, 2);
}

static void
hash_all(const void *p, size_t n, uint8_t d[NBANKS][32])
{
	size_t len;

	for (int i = 0; i < NBANKS; i++)
		if (tpm2_hash(banks[i], p, n, d[i], &len) != 0)
			die("hash");
}

/* Queue one event: extended with d[] at pcr, logged with logged[] at log_pcr. */
static struct fwev *
event_full(uint32_t pcr, uint32_t log_pcr, uint32_t type, const uint8_t *data,
    size_t len, uint8_t d[NBANKS][32], uint8_t logged[NBANKS][32])
{
	struct fwev *e;

	evs = xreallocarray(evs, nevs + 1, sizeof(*evs));
	e = &evs[nevs++];
	memset(e, 0, sizeof(*e));
	e->pcr = pcr;
	e->log_pcr = log_pcr;
	e->type = type;
	e->data = xmalloc(len > 0 ? len : 1);
	memcpy(e->data, data, len);
	e->len = len;
	memcpy(e->ext, d, sizeof(e->ext));
	memcpy(e->logged, logged, sizeof(e->logged));
	e->do_log = cur_mode != M_EXTEND;
	e->banks = cur_banks;
	e->do_ext = cur_mode != M_LOG && pcr < TPM2_PCR_COUNT && type != EV_NO_ACTION;
	return e;
}

static void
event_with(uint32_t pcr, uint32_t type, const uint8_t *data, size_t len,
    uint8_t d[NBANKS][32], uint8_t logged[NBANKS][32])
{
	(void)event_full(pcr, pcr, type, data, len, d, logged);
}

/* An event whose digests are the hashes of its data. */
static void
event(uint32_t pcr, uint32_t type, const uint8_t *data, size_t len)
{
	uint8_t d[NBANKS][32];

	hash_all(data, len, d);
	event_with(pcr, type, data, len, d, d);
}

static void
utf16(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++)
		le16(b, (uint16_t)(unsigned char)*s);
}

static void
var_data(struct buf *v, const uint8_t guid[16], const char *name,
    const uint8_t *val, size_t len)
{
	buf_put(v, guid, 16);
	le64(v, strlen(name));
	le64(v, len);
	utf16(v, name);
	buf_put(v, val, len);
}

/* UEFI_VARIABLE_DATA for an EV_EFI_VARIABLE_DRIVER_CONFIG event in PCR 7. */
static void
variable(const uint8_t guid[16], const char *name, const uint8_t *val, size_t len)
{
	uint8_t d[NBANKS][32];
	uint32_t log_pcr = 7;
	struct buf v;

	buf_init(&v);
	var_data(&v, guid, name, val, len);
	hash_all(v.d, v.len, d);
	if (moved_var != NULL && strcmp(moved_var, name) == 0)
		log_pcr = moved_pcr;
	if (tamper_pk && strcmp(name, "PK") == 0)
		v.d[v.len - 1] ^= 0x5a;	/* the log's bytes, not the digest */
	(void)event_full(7, log_pcr, EV_EFI_VARIABLE_DRIVER_CONFIG, v.d, v.len, d, d);
	buf_free(&v);
}

/* One EFI_SIGNATURE_LIST of n entries of size bytes each. */
static void
siglist(struct buf *b, const uint8_t type[16], const uint8_t *const *sigs,
    size_t n, size_t size)
{
	buf_put(b, type, 16);
	le32(b, (uint32_t)(28 + n * (16 + size)));
	le32(b, 0);
	le32(b, (uint32_t)(16 + size));
	for (size_t i = 0; i < n; i++) {
		buf_put(b, owner, 16);
		buf_put(b, sigs[i], size);
	}
}

/* An EFI_SIGNATURE_LIST of one stand-in X.509 certificate named who. */
static void
cert_list(struct buf *b, const char *who)
{
	char cert[64];
	const uint8_t *p = (const uint8_t *)cert;

	/* Stand-in certificate bytes: policies hash what the list holds. */
	memset(cert, 0, sizeof(cert));
	snprintf(cert, sizeof(cert), "assay test %s certificate", who);
	siglist(b, cert_x509, &p, 1, sizeof(cert));
}

static void
key_db(const uint8_t guid[16], const char *name)
{
	struct buf v;

	buf_init(&v);
	cert_list(&v, name);
	variable(guid, name, v.d, v.len);
	buf_free(&v);
}

/* APP or APP=SHOWN: the TPM gets APP's digest, the log shows SHOWN. */
static void
app(const char *spec)
{
	uint8_t d[NBANKS][32], logged[NBANKS][32];
	const char *eq = strchr(spec, '=');
	char *real = eq != NULL ? xstrndup(spec, (size_t)(eq - spec)) : xstrdup(spec);
	const char *shown = eq != NULL ? eq + 1 : spec;
	char *s, *path;
	struct buf v, dp;

	s = xasprintf("app:%s", real);
	hash_all(s, strlen(s), d);
	free(s);
	s = xasprintf("app:%s", shown);
	hash_all(s, strlen(s), logged);
	free(s);
	if (tamper && !tampered++)
		logged[1][0] ^= 0xff;
	/* Device path: one media file path node (UTF-16, NUL) and the end node. */
	path = xasprintf("\\EFI\\%s.efi", shown);
	buf_init(&dp);
	buf_put(&dp, "\x04\x04", 2);
	le16(&dp, (uint16_t)(4 + 2 * (strlen(path) + 1)));
	utf16(&dp, path);
	le16(&dp, 0);
	buf_put(&dp, "\x7f\xff\x04\x00", 4);
	buf_init(&v);
	le64(&v, 0x7f000000);		/* ImageLocationInMemory */
	le64(&v, 0x100000);		/* ImageLengthInMemory */
	le64(&v, 0);			/* ImageLinkTimeAddress */
	le64(&v, dp.len);		/* LengthOfDevicePath */
	buf_put(&v, dp.d, dp.len);
	event_with(4, EV_EFI_BOOT_SERVICES_APPLICATION, v.d, v.len, d, logged);
	buf_free(&v);
	buf_free(&dp);
	free(path);
	free(real);
}

static void
spec_id(struct buf *out)
{
	struct buf e;
	static const uint8_t zeros[20];

	buf_init(&e);
	buf_put(&e, "Spec ID Event03", 16);
	le32(&e, 0);			/* platformClass: client */
	buf_put(&e, "\x00\x02\x00\x02", 4);	/* 2.0 errata 0, UINTN = 8 bytes */
	le32(&e, NBANKS);
	for (int i = 0; i < NBANKS; i++) {
		le16(&e, banks[i]);
		le16(&e, (uint16_t)tpm2_hash_by_alg(banks[i])->size);
	}
	buf_put(&e, "\x00", 1);		/* no vendor info */
	le32(out, 0);
	le32(out, EV_NO_ACTION);
	buf_put(out, zeros, 20);
	le32(out, (uint32_t)e.len);
	buf_put(out, e.d, e.len);
	buf_free(&e);
}

static void
write_event(struct buf *out, const struct fwev *e)
{
	uint32_t n = 0;

	for (int i = 0; i < NBANKS; i++)
		n += (e->banks >> i) & 1u;
	le32(out, e->log_pcr);
	le32(out, e->type);
	le32(out, n);
	for (int i = 0; i < NBANKS; i++) {
		if (!((e->banks >> i) & 1u))
			continue;
		le16(out, banks[i]);
		buf_put(out, e->logged[i], tpm2_hash_by_alg(banks[i])->size);
	}
	le32(out, (uint32_t)e->len);
	buf_put(out, e->data, e->len);
}

static uint32_t
parse_u32(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	v = strtoull(s, &end, 0);
	if (*s == '\0' || *end != '\0' || v > 0xffffffffull)
		dief(what, s);
	return (uint32_t)v;
}

static uint32_t
parse_type(const char *s)
{
	static const uint32_t known[] = {
		EV_PREBOOT_CERT, EV_POST_CODE, EV_NO_ACTION, EV_SEPARATOR,
		EV_ACTION, EV_EVENT_TAG, EV_S_CRTM_CONTENTS, EV_S_CRTM_VERSION,
		EV_CPU_MICROCODE, EV_PLATFORM_CONFIG_FLAGS, EV_TABLE_OF_DEVICES,
		EV_COMPACT_HASH, EV_IPL, EV_IPL_PARTITION_DATA, EV_NONHOST_CODE,
		EV_NONHOST_CONFIG, EV_NONHOST_INFO, EV_OMIT_BOOT_DEVICE_EVENTS,
		EV_EFI_VARIABLE_DRIVER_CONFIG, EV_EFI_VARIABLE_BOOT,
		EV_EFI_BOOT_SERVICES_APPLICATION, EV_EFI_BOOT_SERVICES_DRIVER,
		EV_EFI_RUNTIME_SERVICES_DRIVER, EV_EFI_GPT_EVENT, EV_EFI_ACTION,
		EV_EFI_PLATFORM_FIRMWARE_BLOB, EV_EFI_HANDOFF_TABLES,
		EV_EFI_PLATFORM_FIRMWARE_BLOB2, EV_EFI_HANDOFF_TABLES2,
		EV_EFI_VARIABLE_BOOT2, EV_EFI_HCRTM_EVENT,
		EV_EFI_VARIABLE_AUTHORITY, EV_EFI_SPDM_FIRMWARE_BLOB,
		EV_EFI_SPDM_FIRMWARE_CONFIG,
	};
	const char *nm;

	if (strncmp(s, "0x", 2) == 0 || strncmp(s, "0X", 2) == 0)
		return parse_u32(s, "-e type");
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if ((nm = eventlog_type_name(known[i])) != NULL && strcmp(nm, s) == 0)
			return known[i];
	dief("-e: unknown event type", s);
}

/* A GRUB string: "LABEL TEXT\0" logged, TEXT hashed (as real GRUB does). */
static void
grub_string(struct buf *v, uint8_t d[NBANKS][32], const char *label,
    const char *text)
{
	buf_put(v, label, strlen(label));
	buf_put(v, text, strlen(text) + 1);
	hash_all(text, strlen(text), d);
}

/* -e [pcr=N,][type=T,][mode=M,][bank=B,][repeat=R,]KIND=TEXT */
static void
extra_event(const char *spec)
{
	uint32_t pcr = 0, type = 0, repeat = 1;
	int have_pcr = 0, have_type = 0, mode = M_BOTH, hashed = 0;
	unsigned bmask = (1u << NBANKS) - 1;
	const char *p = spec, *comma, *text;
	uint8_t d[NBANKS][32], h[NBANKS][32];
	struct buf v;
	char *s;

	for (;;) {
		if (strncmp(p, "pcr=", 4) == 0 || strncmp(p, "type=", 5) == 0 ||
		    strncmp(p, "mode=", 5) == 0 || strncmp(p, "bank=", 5) == 0 ||
		    strncmp(p, "repeat=", 7) == 0) {
			if ((comma = strchr(p, ',')) == NULL)
				dief("-e: no KIND=TEXT", spec);
			s = xstrndup(p, (size_t)(comma - p));
			if (strncmp(s, "pcr=", 4) == 0) {
				pcr = parse_u32(s + 4, "-e pcr");
				have_pcr = 1;
			} else if (strncmp(s, "type=", 5) == 0) {
				type = parse_type(s + 5);
				have_type = 1;
			} else if (strncmp(s, "repeat=", 7) == 0) {
				repeat = parse_u32(s + 7, "-e repeat");
			} else if (strncmp(s, "bank=", 5) == 0) {
				bmask = 0;
				for (int i = 0; i < NBANKS; i++)
					if (strcmp(s + 5,
					    tpm2_hash_by_alg(banks[i])->name) == 0)
						bmask = 1u << i;
				if (bmask == 0)
					dief("-e: bank is sha1 or sha256", s);
			} else if (strcmp(s + 5, "both") == 0)
				mode = M_BOTH;
			else if (strcmp(s + 5, "log") == 0)
				mode = M_LOG;
			else if (strcmp(s + 5, "extend") == 0)
				mode = M_EXTEND;
			else
				dief("-e: mode is both, log or extend", s);
			free(s);
			p = comma + 1;
			continue;
		}
		break;
	}
	if ((text = strchr(p, '=')) == NULL)
		dief("-e: no KIND=TEXT", spec);
	text++;
	buf_init(&v);
#define KIND(k)	(strncmp(p, k "=", sizeof(k)) == 0)
	if (KIND("loadopts")) {
		static const char nm[] = "LOADED_IMAGE::LoadOptions";
		struct buf u;

		le32(&v, EL_TAG_LOAD_OPTIONS);
		le32(&v, sizeof(nm));
		buf_put(&v, nm, sizeof(nm));
		buf_init(&u);
		utf16(&u, text);
		le16(&u, 0);
		hash_all(u.d, u.len, d);
		buf_free(&u);
		if (!have_pcr)
			pcr = 9;
		if (!have_type)
			type = EV_EVENT_TAG;
		hashed = 1;
	} else if (KIND("grub_cmdline") || KIND("grub_cmd")) {
		grub_string(&v, d, KIND("grub_cmd") ? "grub_cmd: " :
		    "kernel_cmdline: ", text);
		pcr = have_pcr ? pcr : 8;
		type = have_type ? type : EV_IPL;
		hashed = 1;
	} else {
		if (KIND("cmdline")) {
			s = xasprintf("kernel_cmdline: %s", text);
			buf_put(&v, s, strlen(s) + 1);
			free(s);
			pcr = have_pcr ? pcr : 8;
			type = have_type ? type : EV_IPL;
		} else if (KIND("ipl")) {
			buf_put(&v, text, strlen(text) + 1);
			pcr = have_pcr ? pcr : 14;
			type = have_type ? type : EV_IPL;
		} else if (KIND("utf16")) {
			utf16(&v, text);
			pcr = have_pcr ? pcr : 12;
			type = have_type ? type : EV_IPL;
		} else if (KIND("action")) {
			buf_put(&v, text, strlen(text));
			pcr = have_pcr ? pcr : 5;
			type = have_type ? type : EV_EFI_ACTION;
		} else if (KIND("var")) {
			const char *c = strchr(text, ':');
			char *name;
			uint8_t b;
			struct buf val;

			if (c == NULL)
				dief("-e var=NAME:VALUE", text);
			name = xstrndup(text, (size_t)(c - text));
			buf_init(&val);
			if (strcmp(name, "SecureBoot") == 0) {
				b = (uint8_t)(strcmp(c + 1, "0") != 0);
				buf_put(&val, &b, 1);
			} else
				cert_list(&val, c + 1);
			var_data(&v, strcmp(name, "db") == 0 || strcmp(name, "dbx") == 0 ?
			    efi_secdb : efi_global, name, val.d, val.len);
			buf_free(&val);
			free(name);
			pcr = have_pcr ? pcr : 7;
			type = have_type ? type : EV_EFI_VARIABLE_DRIVER_CONFIG;
		} else if (KIND("data")) {
			buf_put(&v, text, strlen(text));
			pcr = have_pcr ? pcr : 0;
			type = have_type ? type : EV_POST_CODE;
		} else
			dief("-e: unknown KIND (loadopts, cmdline, grub_cmdline, "
			    "grub_cmd, ipl, utf16, action, var, data)", p);
	}
	if (!hashed)
		hash_all(v.d, v.len, d);
#undef KIND
	memcpy(h, d, sizeof(h));
	cur_mode = mode;
	cur_banks = bmask;
	for (uint32_t i = 0; i < repeat; i++)
		event_with(pcr, type, v.d, v.len, d, h);
	cur_mode = M_BOTH;
	cur_banks = (1u << NBANKS) - 1;
	buf_free(&v);
}

/* -G: real GRUB's `linux` command event, then its kernel_cmdline event. */
static void
grub_real(const char *cmdline)
{
	uint8_t d[NBANKS][32];
	const char *args = cmdline, *sp;
	char *path, *cmd;
	struct buf v;

	if (strncmp(cmdline, "BOOT_IMAGE=", 11) == 0) {
		sp = strchr(cmdline, ' ');
		path = sp != NULL ? xstrndup(cmdline + 11, (size_t)(sp - cmdline - 11)) :
		    xstrdup(cmdline + 11);
		args = sp != NULL ? sp + 1 : "";
	} else
		path = xstrdup("/vmlinuz");
	cmd = *args != '\0' ? xasprintf("linux %s %s", path, args) :
	    xasprintf("linux %s", path);
	buf_init(&v);
	grub_string(&v, d, "grub_cmd: ", cmd);
	event_with(8, EV_IPL, v.d, v.len, d, d);
	buf_free(&v);
	buf_init(&v);
	grub_string(&v, d, "kernel_cmdline: ", cmdline);
	event_with(8, EV_IPL, v.d, v.len, d, d);
	buf_free(&v);
	free(cmd);
	free(path);
}

/* -L pcr=N[,nth=K][,type=T][,unlabel][,flip=OFF][,nul][,data=TEXT] */
static void
relabel(const char *spec)
{
	long nth = 1, k, cnt = 0, flip = -1;
	uint32_t pcr = 0, type = 0;
	int have_pcr = 0, have_type = 0, unlabel = 0, nul = 0;
	const char *p = spec, *comma, *data = NULL;
	struct fwev *e = NULL;
	char *s, *end;
	uint8_t *nd;
	size_t nlen;

	while (*p != '\0') {
		if (strncmp(p, "data=", 5) == 0) {
			data = p + 5;
			break;
		}
		comma = strchr(p, ',');
		s = comma != NULL ? xstrndup(p, (size_t)(comma - p)) : xstrdup(p);
		if (strncmp(s, "pcr=", 4) == 0) {
			pcr = parse_u32(s + 4, "-L pcr");
			have_pcr = 1;
		} else if (strncmp(s, "nth=", 4) == 0) {
			nth = strtol(s + 4, &end, 0);
			if (s[4] == '\0' || *end != '\0' || nth == 0)
				dief("-L nth wants a non-zero number", s);
		} else if (strncmp(s, "type=", 5) == 0) {
			type = parse_type(s + 5);
			have_type = 1;
		} else if (strncmp(s, "flip=", 5) == 0) {
			flip = (long)parse_u32(s + 5, "-L flip");
		} else if (strcmp(s, "unlabel") == 0) {
			unlabel = 1;
		} else if (strcmp(s, "nul") == 0) {
			nul = 1;
		} else
			dief("-L: unknown item", s);
		free(s);
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	if (!have_pcr)
		dief("-L wants pcr=N", spec);
	for (size_t i = 0; i < nevs; i++)
		if (evs[i].do_log && evs[i].log_pcr == pcr)
			cnt++;
	k = nth > 0 ? nth - 1 : cnt + nth;
	if (k < 0 || k >= cnt)
		dief("-L: no such event", spec);
	for (size_t i = 0; i < nevs; i++)
		if (evs[i].do_log && evs[i].log_pcr == pcr && k-- == 0) {
			e = &evs[i];
			break;
		}
	if (data != NULL) {
		free(e->data);
		e->len = strlen(data);
		e->data = xmalloc(e->len + 1);
		memcpy(e->data, data, e->len);
	}
	if (unlabel) {
		uint8_t *c = memmem(e->data, e->len, ": ", 2);
		size_t off = c != NULL ? (size_t)(c - e->data) + 2 : 0;

		nlen = e->len - off;
		if (nlen > 0 && e->data[off + nlen - 1] == '\0')
			nlen--;
		memmove(e->data, e->data + off, nlen);
		e->len = nlen;
	}
	if (nul) {
		nd = xmalloc(e->len + 1);
		memcpy(nd, e->data, e->len);
		nd[e->len++] = '\0';
		free(e->data);
		e->data = nd;
	}
	if (flip >= 0) {
		if ((size_t)flip >= e->len)
			dief("-L: flip past the end of the data", spec);
		e->data[flip] ^= 0x01;
	}
	if (have_type)
		e->type = type;
}

static int
in_list(const uint32_t *l, size_t n, uint32_t v)
{
	for (size_t i = 0; i < n; i++)
		if (l[i] == v)
			return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	const char *path = NULL, *cmdline = NULL, *apps[16], *extras[MAXLIST];
	const char *relabels[MAXLIST];
	size_t nrelabels = 0;
	int grub = 0;
	uint32_t drop[MAXLIST], swap[MAXLIST], dup[MAXLIST];
	size_t ndrop = 0, nswap = 0, ndup = 0, nextras = 0, cut = 0;
	uint8_t *dbx[16], sb = 1;
	static const uint8_t sep[4];
	size_t napps = 0, ndbx = 0, n, *order, nord = 0;
	struct buf v, out;
	char *tmp, *colon;
	FILE *f;
	int ch;

	while ((ch = getopt(argc, argv, "t:o:s:c:Ga:x:TnBe:D:O:U:C:V:kL:")) != -1) {
		switch (ch) {
		case 't': tpm.tcti = optarg; break;
		case 'o': path = optarg; break;
		case 's': sb = (uint8_t)(strcmp(optarg, "0") != 0); break;
		case 'c': cmdline = optarg; break;
		case 'G': grub = 1; break;
		case 'L':
			if (nrelabels == MAXLIST)
				dief("too many", "-L");
			relabels[nrelabels++] = optarg;
			break;
		case 'a':
			if (napps < 16)
				apps[napps++] = optarg;
			break;
		case 'x':
			if (ndbx == 16)
				dief("too many", "-x");
			if (hex_decode_alloc(optarg, 32, &dbx[ndbx], &n) != 0 ||
			    n != 32)
				die("-x wants 64 hex digits");
			ndbx++;
			break;
		case 'T': tamper = 1; break;
		case 'n': no_extend = 1; break;
		case 'B': base_logonly = 1; break;
		case 'e':
			if (nextras == MAXLIST)
				dief("too many", "-e");
			extras[nextras++] = optarg;
			break;
		case 'D':
			if (ndrop == MAXLIST)
				dief("too many", "-D");
			drop[ndrop++] = parse_u32(optarg, "-D wants a PCR");
			break;
		case 'O':
			if (nswap == MAXLIST)
				dief("too many", "-O");
			swap[nswap++] = parse_u32(optarg, "-O wants a PCR");
			break;
		case 'U':
			if (ndup == MAXLIST)
				dief("too many", "-U");
			dup[ndup++] = parse_u32(optarg, "-U wants a PCR");
			break;
		case 'C': cut = parse_u32(optarg, "-C wants a byte count"); break;
		case 'V':
			if ((colon = strchr(optarg, ':')) == NULL)
				dief("-V wants VAR:PCR", optarg);
			moved_var = xstrndup(optarg, (size_t)(colon - optarg));
			moved_pcr = parse_u32(colon + 1, "-V wants VAR:PCR");
			break;
		case 'k': tamper_pk = 1; break;
		default: goto usage;
		}
	}
	if (path == NULL || optind != argc || (tpm.tcti == NULL && !no_extend))
		goto usage;
	setenv("TSS2_LOG", "all+NONE", 0);
	tpm.ak_alg = TPM2_ALG_ECC;

	/* The standard boot. */
	cur_mode = base_logonly ? M_LOG : M_BOTH;
	buf_init(&v);
	utf16(&v, "1.0");
	event(0, EV_S_CRTM_VERSION, v.d, v.len);
	buf_free(&v);
	event(0, EV_POST_CODE, (const uint8_t *)"assay test firmware", 19);
	variable(efi_global, "SecureBoot", &sb, 1);
	key_db(efi_global, "PK");
	key_db(efi_global, "KEK");
	key_db(efi_secdb, "db");
	buf_init(&v);
	if (ndbx > 0)
		siglist(&v, cert_sha256, (const uint8_t *const *)dbx, ndbx, 32);
	variable(efi_secdb, "dbx", v.d, v.len);
	buf_free(&v);
	for (uint32_t pcr = 0; pcr < 8; pcr++)
		event(pcr, EV_SEPARATOR, sep, sizeof(sep));
	event(5, EV_EFI_ACTION, (const uint8_t *)"Exit Boot Services Invocation", 29);
	for (size_t i = 0; i < napps; i++)
		app(apps[i]);
	if (cmdline != NULL && grub)
		grub_real(cmdline);
	else if (cmdline != NULL) {
		char *s = xasprintf("kernel_cmdline: %s", cmdline);

		event(8, EV_IPL, (const uint8_t *)s, strlen(s) + 1);
		free(s);
	}
	cur_mode = M_BOTH;
	/* What comes after it (or what the attacker appends). */
	for (size_t i = 0; i < nextras; i++)
		extra_event(extras[i]);
	/* The attacker relabels events in the log. */
	for (size_t i = 0; i < nrelabels; i++)
		relabel(relabels[i]);

	/* The log as written: drops, swaps, duplicates. */
	order = xcalloc(2 * nevs + 1, sizeof(*order));
	for (size_t i = 0; i < nevs; i++) {
		if (!evs[i].do_log || in_list(drop, ndrop, evs[i].log_pcr))
			continue;
		order[nord++] = i;
		if (in_list(dup, ndup, evs[i].log_pcr)) {
			order[nord++] = i;	/* the first one only */
			for (size_t k = 0; k < ndup; k++)
				if (dup[k] == evs[i].log_pcr)
					dup[k] = 0xfffffffeu;
		}
	}
	for (size_t k = 0; k < nswap; k++) {
		size_t a = nord, b = nord, t;

		for (size_t i = 0; i < nord; i++) {
			if (evs[order[i]].log_pcr != swap[k])
				continue;
			if (a == nord)
				a = i;
			else {
				b = i;
				break;
			}
		}
		if (b == nord)
			dief("-O: fewer than two logged events in PCR", "");
		t = order[a];
		order[a] = order[b];
		order[b] = t;
	}
	buf_init(&out);
	spec_id(&out);
	for (size_t i = 0; i < nord; i++)
		write_event(&out, &evs[order[i]]);
	if (cut > 0) {
		if (cut >= out.len)
			dief("-C: the log is shorter than that", "");
		out.len -= cut;
	}
	tmp = xasprintf("%s.tmp", path);
	if ((f = fopen(tmp, "wb")) == NULL || fwrite(out.d, 1, out.len, f) != out.len ||
	    fclose(f) != 0 || rename(tmp, path) != 0) {
		perror(path);
		return 1;
	}
	free(tmp);

	/* The TPM: after the log, so that a reader never sees an extend the
	 * log it can fetch does not explain yet (post-boot appends). */
	for (size_t i = 0; i < nevs && !no_extend; i++) {
		const uint8_t *ext[NBANKS];
		uint16_t algs[NBANKS];
		size_t nb = 0;

		for (int b = 0; b < NBANKS; b++)
			if ((evs[i].banks >> b) & 1u) {
				algs[nb] = banks[b];
				ext[nb++] = evs[i].ext[b];
			}
		if (evs[i].do_ext &&
		    tpm_pcr_extend(&tpm, evs[i].pcr, algs, ext, nb) != 0)
			die("extend");
	}
	for (size_t i = 0; i < nevs; i++)
		free(evs[i].data);
	free(evs);
	free(order);
	for (size_t i = 0; i < ndbx; i++)
		free(dbx[i]);
	buf_free(&out);
	return 0;
 usage:
	fprintf(stderr, "usage: fw_eventlog -t TCTI -o LOG [-s 0|1] [-c CMDLINE] "
	    "[-G] [-a APP[=SHOWN]]... [-x DBXHEX]... [-T] [-n] [-B]\n"
	    "                   [-e [pcr=N,][type=T,][mode=both|log|extend,]"
	    "[bank=B,][repeat=R,]KIND=TEXT]...\n"
	    "                   [-D PCR]... [-O PCR]... [-U PCR]... [-C BYTES] "
	    "[-V VAR:PCR] [-k]\n"
	    "                   [-L pcr=N[,nth=K][,type=T][,unlabel][,flip=OFF]"
	    "[,nul][,data=TEXT]]...\n");
	return 2;
}
