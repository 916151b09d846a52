/*
 * fw_eventlog_events.c — fw_eventlog's event queue and the genuine boot's
 * events: TCG encodings (little-endian integers, UTF-16, UEFI variables,
 * signature lists, stand-in certificates, boot application device paths,
 * GRUB strings), each event queued with the digests to extend and those
 * to log (the -T, -k and -V attacks bend the latter here).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/evidence/eventlog.h"
#include "common/evidence/tpm2.h"
#include "common/xmalloc.h"
#include "tests/tools/fw_eventlog.h"

const uint16_t banks[NBANKS] = { TPM2_ALG_SHA1, TPM2_ALG_SHA256 };
int tamper, tamper_pk;
static int tampered;		/* -T: done, on the first application */
const char *moved_var;
uint32_t moved_pcr;

struct fwev *evs;
size_t nevs;
int cur_mode = M_BOTH;
unsigned cur_banks = (1u << NBANKS) - 1;

const uint8_t efi_global[16] = { 0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2,
    0x11, 0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c };
const uint8_t efi_secdb[16] = { 0xcb, 0xb2, 0x19, 0xd7, 0x3a, 0x3d, 0x96,
    0x45, 0xa3, 0xbc, 0xda, 0xd0, 0x0e, 0x67, 0x65, 0x6f };
static const uint8_t cert_x509[16] = { 0xa1, 0x59, 0xc0, 0xa5, 0xe4, 0x94, 0xa7,
    0x4a, 0x87, 0xb5, 0xab, 0x15, 0x5c, 0x2b, 0xf0, 0x72 };
const uint8_t cert_sha256[16] = { 0x26, 0x16, 0xc4, 0xc1, 0x4c, 0x50, 0x92,
    0x40, 0xac, 0xa9, 0x41, 0xf9, 0x36, 0x93, 0x43, 0x28 };
static const uint8_t owner[16] = { 'a', 's', 's', 'a', 'y', '-', 't', 'e', 's',
    't', '-', 'o', 'w', 'n', 'e', 'r' };

void __attribute__((noreturn))
die(const char *what)
{
	fprintf(stderr, "fw_eventlog: %s: %s\n", what, assay_err_detail());
	exit(1);
}

void __attribute__((noreturn))
dief(const char *what, const char *arg)
{
	fprintf(stderr, "fw_eventlog: %s: %s\n", what, arg);
	exit(2);
}

void
le32(struct buf *b, uint32_t v)
{
	uint8_t x[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };

	buf_put(b, x, 4);
}

void
le64(struct buf *b, uint64_t v)
{
	le32(b, (uint32_t)v);
	le32(b, (uint32_t)(v >> 32));
}

void
le16(struct buf *b, uint16_t v)
{
	uint8_t x[2] = { v & 0xff, v >> 8 };

	buf_put(b, x, 2);
}

void
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

void
event_with(uint32_t pcr, uint32_t type, const uint8_t *data, size_t len,
    uint8_t d[NBANKS][32], uint8_t logged[NBANKS][32])
{
	(void)event_full(pcr, pcr, type, data, len, d, logged);
}

/* An event whose digests are the hashes of its data. */
void
event(uint32_t pcr, uint32_t type, const uint8_t *data, size_t len)
{
	uint8_t d[NBANKS][32];

	hash_all(data, len, d);
	event_with(pcr, type, data, len, d, d);
}

void
utf16(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++)
		le16(b, (uint16_t)(unsigned char)*s);
}

void
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
void
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
void
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
void
cert_list(struct buf *b, const char *who)
{
	char cert[64];
	const uint8_t *p = (const uint8_t *)cert;

	/* Stand-in certificate bytes: policies hash what the list holds. */
	memset(cert, 0, sizeof(cert));
	snprintf(cert, sizeof(cert), "assay test %s certificate", who);
	siglist(b, cert_x509, &p, 1, sizeof(cert));
}

void
key_db(const uint8_t guid[16], const char *name)
{
	struct buf v;

	buf_init(&v);
	cert_list(&v, name);
	variable(guid, name, v.d, v.len);
	buf_free(&v);
}

/* APP or APP=SHOWN: the TPM gets APP's digest, the log shows SHOWN. */
void
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


/* A GRUB string: "LABEL TEXT\0" logged, TEXT hashed (as real GRUB does). */
void
grub_string(struct buf *v, uint8_t d[NBANKS][32], const char *label,
    const char *text)
{
	buf_put(v, label, strlen(label));
	buf_put(v, text, strlen(text) + 1);
	hash_all(text, strlen(text), d);
}


/* -G: real GRUB's `linux` command event, then its kernel_cmdline event. */
void
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
