/*
 * fw_eventlog.c — a test helper that plays the firmware for an agent's
 * swtpm: it writes a TCG crypto-agile event log (Spec ID Event03, sha1 and
 * sha256 banks) with the events a measured-boot policy looks at, and
 * extends the swtpm's PCRs 0-9 with the same digests.
 *
 *   fw_eventlog -t TCTI -o LOG [-s 0|1] [-c CMDLINE] [-a APP]... [-x DBXHEX]...
 *               [-T] [-n]
 *   -s  SecureBoot value measured into PCR 7 (default 1)
 *   -c  kernel command line, measured GRUB-style as EV_IPL in PCR 8
 *   -a  a boot application named APP (Authenticode digest = H("app:" APP))
 *   -x  a SHA-256 revocation in dbx
 *   -T  tamper: the log carries another digest for the first application
 *       than the one extended (what a log rewritten after boot looks like)
 *   -n  write the log only, extend nothing
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

static const uint16_t banks[2] = { TPM2_ALG_SHA1, TPM2_ALG_SHA256 };
static struct tpm_cfg tpm;
static int no_extend, tamper, tampered;
static struct buf out;

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

/* One TCG_PCR_EVENT2 with per-bank digests d[], then the extend. */
static void
event_with(uint32_t pcr, uint32_t type, const uint8_t *data, size_t len,
    uint8_t d[2][32], uint8_t logged[2][32])
{
	const uint8_t *ext[2] = { d[0], d[1] };

	le32(&out, pcr);
	le32(&out, type);
	le32(&out, 2);
	for (int i = 0; i < 2; i++) {
		le16(&out, banks[i]);
		buf_put(&out, logged[i], tpm2_hash_by_alg(banks[i])->size);
	}
	le32(&out, (uint32_t)len);
	buf_put(&out, data, len);
	if (!no_extend && tpm_pcr_extend(&tpm, pcr, banks, ext, 2) != 0)
		die("extend");
}

/* An event whose digests are the hashes of its data. */
static void
event(uint32_t pcr, uint32_t type, const uint8_t *data, size_t len)
{
	uint8_t d[2][32];
	size_t n;

	for (int i = 0; i < 2; i++)
		if (tpm2_hash(banks[i], data, len, d[i], &n) != 0)
			die("hash");
	event_with(pcr, type, data, len, d, d);
}

static void
utf16(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++)
		le16(b, (uint16_t)(unsigned char)*s);
}

/* UEFI_VARIABLE_DATA for an EV_EFI_VARIABLE_DRIVER_CONFIG event in PCR 7. */
static void
variable(const uint8_t guid[16], const char *name, const uint8_t *val, size_t len)
{
	struct buf v;

	buf_init(&v);
	buf_put(&v, guid, 16);
	le64(&v, strlen(name));
	le64(&v, len);
	utf16(&v, name);
	buf_put(&v, val, len);
	event(7, EV_EFI_VARIABLE_DRIVER_CONFIG, v.d, v.len);
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

static void
key_db(const uint8_t guid[16], const char *name)
{
	struct buf v;
	char cert[64];
	const uint8_t *p = (const uint8_t *)cert;

	/* Stand-in certificate bytes: policies hash what the list holds. */
	memset(cert, 0, sizeof(cert));
	snprintf(cert, sizeof(cert), "assay test %s certificate", name);
	buf_init(&v);
	siglist(&v, cert_x509, &p, 1, sizeof(cert));
	variable(guid, name, v.d, v.len);
	buf_free(&v);
}

static void
app(const char *name)
{
	uint8_t d[2][32], logged[2][32];
	struct buf v;
	char *s = xasprintf("app:%s", name);
	size_t n;

	for (int i = 0; i < 2; i++)
		if (tpm2_hash(banks[i], s, strlen(s), d[i], &n) != 0)
			die("hash");
	memcpy(logged, d, sizeof(d));
	if (tamper && !tampered++)
		logged[1][0] ^= 0xff;
	buf_init(&v);
	le64(&v, 0x7f000000);		/* ImageLocationInMemory */
	le64(&v, 0x100000);		/* ImageLengthInMemory */
	le64(&v, 0);			/* ImageLinkTimeAddress */
	le64(&v, strlen(name) + 4);	/* LengthOfDevicePath: a vendor node stand-in */
	buf_put(&v, "\x04\x04", 2);	/* media, file path */
	le16(&v, (uint16_t)(strlen(name) + 4));
	buf_put(&v, name, strlen(name));
	event_with(4, EV_EFI_BOOT_SERVICES_APPLICATION, v.d, v.len, d, logged);
	buf_free(&v);
	free(s);
}

static void
spec_id(void)
{
	struct buf e;
	static const uint8_t zeros[20];

	buf_init(&e);
	buf_put(&e, "Spec ID Event03", 16);
	le32(&e, 0);			/* platformClass: client */
	buf_put(&e, "\x00\x02\x00\x02", 4);	/* 2.0 errata 0, UINTN = 8 bytes */
	le32(&e, 2);
	for (int i = 0; i < 2; i++) {
		le16(&e, banks[i]);
		le16(&e, (uint16_t)tpm2_hash_by_alg(banks[i])->size);
	}
	buf_put(&e, "\x00", 1);		/* no vendor info */
	le32(&out, 0);
	le32(&out, EV_NO_ACTION);
	buf_put(&out, zeros, 20);
	le32(&out, (uint32_t)e.len);
	buf_put(&out, e.d, e.len);
	buf_free(&e);
}

int
main(int argc, char **argv)
{
	const char *path = NULL, *cmdline = NULL, *apps[16];
	uint8_t *dbx[16], sb = 1;
	static const uint8_t sep[4];
	size_t napps = 0, ndbx = 0, n;
	struct buf v;
	FILE *f;
	int ch;

	buf_init(&out);
	while ((ch = getopt(argc, argv, "t:o:s:c:a:x:Tn")) != -1) {
		switch (ch) {
		case 't': tpm.tcti = optarg; break;
		case 'o': path = optarg; break;
		case 's': sb = (uint8_t)(strcmp(optarg, "0") != 0); break;
		case 'c': cmdline = optarg; break;
		case 'a':
			if (napps < 16)
				apps[napps++] = optarg;
			break;
		case 'x':
			if (ndbx < 16 && (hex_decode_alloc(optarg, 32, &dbx[ndbx], &n) != 0 ||
			    n != 32))
				die("-x wants 64 hex digits");
			ndbx++;
			break;
		case 'T': tamper = 1; break;
		case 'n': no_extend = 1; break;
		default: goto usage;
		}
	}
	if (path == NULL || (tpm.tcti == NULL && !no_extend))
		goto usage;
	setenv("TSS2_LOG", "all+NONE", 0);
	tpm.ak_alg = TPM2_ALG_ECC;

	spec_id();
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
	if (cmdline != NULL) {
		char *s = xasprintf("kernel_cmdline: %s", cmdline);

		event(8, EV_IPL, (const uint8_t *)s, strlen(s) + 1);
		free(s);
	}
	if ((f = fopen(path, "wb")) == NULL || fwrite(out.d, 1, out.len, f) != out.len ||
	    fclose(f) != 0) {
		perror(path);
		return 1;
	}
	for (size_t i = 0; i < ndbx; i++)
		free(dbx[i]);
	buf_free(&out);
	return 0;
 usage:
	fprintf(stderr, "usage: fw_eventlog -t TCTI -o LOG [-s 0|1] [-c CMDLINE] "
	    "[-a APP]... [-x DBXHEX]... [-T] [-n]\n");
	return 2;
}
