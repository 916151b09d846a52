/*
 * ima_kernel.c — a test helper that plays the kernel's IMA for an agent's
 * swtpm: it appends entries to a binary measurement list (ima-ng or
 * ima-sig template, SHA-256 file digests) and extends PCR 10 the way a
 * recent kernel does (SHA-1 bank: SHA-1 template hash; every other bank:
 * that bank's hash of the template data), list first, then the TPM.
 *
 *   ima_kernel -t TCTI -l LIST boot                 boot_aggregate entry
 *   ima_kernel -t TCTI -l LIST file PATH...         measure files
 *   ima_kernel -t TCTI -l LIST digest NAME HEX      a given sha256 digest
 *   ima_kernel -t TCTI -l LIST buf NAME HEX         ima-buf entry, buffer HEX
 *   ima_kernel -t TCTI -l LIST violation NAME [HEX] a ToMToU-style violation
 *                                                   (HEX: the digest recorded
 *                                                   in its unbound data)
 *   ima_kernel ... -s SIGHEX file PATH              ima-sig with a signature
 *   ima_kernel ... -n                               append only, no extend
 *   ima_kernel -t TCTI -l LIST bulk COUNT NAMELEN   COUNT entries with names of
 *                                                   NAMELEN bytes (fast: for
 *                                                   lists of hundreds of MB)
 *   ima_kernel -t TCTI -l LIST swap                 swap the last two entries
 *   ima_kernel -t TCTI -l LIST drop [N]             remove the last N entries
 *   ima_kernel -t TCTI -l LIST dup                  append a copy of the last
 *                                                   entry (list only)
 *   ima_kernel ... -e                               extend only (an entry
 *                                                   appended earlier with -n)
 *
 * Attacker options (adversarial tests; none changes the defaults above):
 *   -L LAYOUT   field layout of the template data: ima-ng (default),
 *               ima-sig (d-ng|n-ng|sig, empty sig unless -s), ima-buf
 *               (d-ng|n-ng|buf), ima (legacy: SHA-1 digest[20] and name,
 *               hashed with the name zero-padded to 256 bytes)
 *   -T LABEL    template name written in the entry header (outside the
 *               template hash), whatever the layout
 *   -P PCR      PCR index written in the entry header (default 10); the
 *               entry is extended into that PCR too unless -X says
 *   -X PCR      PCR actually extended (default: the -P value)
 *
 * swap, drop and dup rewrite the list into a new file renamed over the old
 * one (a new inode: the agent's reader re-indexes it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "agent/ima_reader.h"
#include "agent/tpm.h"
#include "common/buf.h"
#include "common/encode.h"
#include "common/err.h"
#include "common/evidence/tpm2.h"
#include "common/xmalloc.h"

enum layout { LAY_DEFAULT = 0, LAY_NG, LAY_SIG, LAY_BUF, LAY_IMA };

static struct tpm_cfg tpm;
static const char *list_path;
static uint8_t *sig;
static size_t sig_len;
static int no_extend, no_append;
static enum layout layout = LAY_DEFAULT;
static const char *label;
static unsigned hdr_pcr = 10;
static int ext_pcr = -1;

static void __attribute__((noreturn))
die(const char *what)
{
	fprintf(stderr, "ima_kernel: %s: %s\n", what, assay_err_detail());
	exit(1);
}

static void
field(struct buf *b, const void *p, size_t n)
{
	uint32_t le = (uint32_t)n;
	uint8_t x[4] = { le & 0xff, (le >> 8) & 0xff, (le >> 16) & 0xff, le >> 24 };

	buf_put(b, x, 4);
	buf_put(b, p, n);
}

static void
put_le32(struct buf *b, uint32_t v)
{
	uint8_t x[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };

	buf_put(b, x, 4);
}

static enum layout
effective_layout(enum layout want)
{
	if (layout != LAY_DEFAULT)
		return layout;
	if (want != LAY_DEFAULT)
		return want;
	return sig != NULL ? LAY_SIG : LAY_NG;
}

static const char *
layout_name(enum layout l)
{
	switch (l) {
	case LAY_SIG: return "ima-sig";
	case LAY_BUF: return "ima-buf";
	case LAY_IMA: return "ima";
	default: return "ima-ng";
	}
}

/*
 * One entry as the list holds it (appended to e), with its template hashes
 * in h1 and h256 (what a kernel extends; all-ones for a violation).
 * digest is sha256 (32 bytes) except for the legacy layout (sha1, 20).
 * bufp/buflen: the ima-buf field.
 */
static void
entry_build(const char *name, const uint8_t *digest, int violation,
    enum layout want, const uint8_t *bufp, size_t buflen, struct buf *e,
    uint8_t h1[20], uint8_t h256[32])
{
	struct buf td, hashed;
	enum layout lay = effective_layout(want);
	const char *tmpl = label != NULL ? label : layout_name(lay);
	size_t n;

	buf_init(&td);
	buf_init(&hashed);
	if (lay == LAY_IMA) {
		uint8_t pad[256];
		size_t nl = strlen(name);

		if (nl > 255) {
			fprintf(stderr, "ima_kernel: name too long for the ima template\n");
			exit(1);
		}
		/* list form: digest[20] || u32 strlen || name (no NUL) */
		buf_put(&td, digest, 20);
		put_le32(&td, (uint32_t)nl);
		buf_put(&td, name, nl);
		/* hashed form: digest[20] || name zero-padded to 256 */
		memset(pad, 0, sizeof(pad));
		memcpy(pad, name, nl);
		buf_put(&hashed, digest, 20);
		buf_put(&hashed, pad, sizeof(pad));
	} else {
		uint8_t dng[8 + 32];

		memcpy(dng, "sha256:", 8);		/* includes the NUL */
		memcpy(dng + 8, digest, 32);
		field(&td, dng, sizeof(dng));
		field(&td, name, strlen(name) + 1);
		if (lay == LAY_SIG)
			field(&td, sig, sig != NULL ? sig_len : 0);
		else if (lay == LAY_BUF)
			field(&td, bufp, bufp != NULL ? buflen : 0);
		buf_put(&hashed, td.d, td.len);
	}
	if (tpm2_hash(TPM2_ALG_SHA1, hashed.d, hashed.len, h1, &n) != 0 ||
	    tpm2_hash(TPM2_ALG_SHA256, hashed.d, hashed.len, h256, &n) != 0)
		die("hash");
	put_le32(e, hdr_pcr);
	buf_put(e, violation ? (const uint8_t *)"\0\0\0\0\0\0\0\0\0\0"
	    "\0\0\0\0\0\0\0\0\0\0" : h1, 20);
	put_le32(e, (uint32_t)strlen(tmpl));
	buf_put(e, tmpl, strlen(tmpl));
	if (lay == LAY_IMA)
		buf_put(e, td.d, td.len);	/* no template data length */
	else
		field(e, td.d, td.len);
	if (violation) {
		memset(h1, 0xff, 20);
		memset(h256, 0xff, 32);
	}
	buf_free(&td);
	buf_free(&hashed);
}

static void
list_append(const struct buf *e)
{
	int fd;

	if ((fd = open(list_path, O_WRONLY | O_APPEND | O_CREAT, 0644)) < 0 ||
	    write(fd, e->d, e->len) != (ssize_t)e->len || close(fd) != 0) {
		fprintf(stderr, "ima_kernel: %s: %s\n", list_path, strerror(errno));
		exit(1);
	}
}

static const uint16_t banks[2] = { TPM2_ALG_SHA1, TPM2_ALG_SHA256 };

/* Append one entry (one write), then extend the PCR in sha1 and sha256. */
static void
emit(const char *name, const uint8_t *digest, int violation, enum layout want,
    const uint8_t *bufp, size_t buflen)
{
	struct buf e;
	uint8_t h[20 + 32];

	buf_init(&e);
	entry_build(name, digest, violation, want, bufp, buflen, &e, h, h + 20);
	if (!no_append)
		list_append(&e);
	if (!no_extend && tpm_pcr_extend_seq(&tpm, ext_pcr >= 0 ?
	    (unsigned)ext_pcr : hdr_pcr, banks, 2, h, 1) != 0)
		die("extend");
	buf_free(&e);
}

/*
 * count file entries whose names are namelen bytes ("/bulk/<i>/xxx..."),
 * each with the sha256 of its name as digest: a large list fast (batches
 * of entries appended, then extended on one TPM connection).
 */
static void
bulk(unsigned long count, size_t namelen)
{
	enum { BATCH = 1024 };
	uint8_t *h = xmalloc(BATCH * (20 + 32)), d[32];
	char *name = xmalloc(namelen + 1);
	unsigned long i = 0;
	size_t k, n;
	struct buf e;

	while (i < count) {
		buf_init(&e);
		for (k = 0; k < BATCH && i < count; k++, i++) {
			n = (size_t)snprintf(name, namelen + 1, "/bulk/%lu/", i);
			if (n < namelen)
				memset(name + n, 'x', namelen - n);
			name[namelen] = '\0';
			if (tpm2_hash(TPM2_ALG_SHA256, name, strlen(name), d, &n) != 0)
				die("hash");
			entry_build(name, d, 0, LAY_DEFAULT, NULL, 0, &e,
			    h + k * 52, h + k * 52 + 20);
		}
		list_append(&e);
		buf_free(&e);
		if (tpm_pcr_extend_seq(&tpm, hdr_pcr, banks, 2, h, k) != 0)
			die("extend");
	}
	free(name);
	free(h);
}

static void
boot(void)
{
	struct pcr_selection sel = { .n = 1, .bank = { { TPM2_ALG_SHA256, 0x3ff } } };
	struct pcr_values v;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t agg[32];
	unsigned int n;

	if (tpm_pcr_read(&tpm, &sel, &v) != 0)
		die("PCR read");
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (unsigned i = 0; i < 10; i++)
		EVP_DigestUpdate(ctx, pcr_values_get(&v, TPM2_ALG_SHA256, i), 32);
	EVP_DigestFinal_ex(ctx, agg, &n);
	EVP_MD_CTX_free(ctx);
	emit("boot_aggregate", agg, 0, LAY_DEFAULT, NULL, 0);
}

static void
file(const char *path)
{
	uint8_t d[32], chunk[65536];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int legacy = effective_layout(LAY_DEFAULT) == LAY_IMA;
	unsigned int n;
	ssize_t got;
	int fd;

	if ((fd = open(path, O_RDONLY)) < 0) {
		fprintf(stderr, "ima_kernel: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	EVP_DigestInit_ex(ctx, legacy ? EVP_sha1() : EVP_sha256(), NULL);
	while ((got = read(fd, chunk, sizeof(chunk))) > 0)
		EVP_DigestUpdate(ctx, chunk, (size_t)got);
	close(fd);
	EVP_DigestFinal_ex(ctx, d, &n);
	EVP_MD_CTX_free(ctx);
	emit(path, d, 0, LAY_DEFAULT, NULL, 0);
}

/* The whole list and its entry offsets (r->off[0..r->n]). */
static uint8_t *
load_list(struct ima_reader *r, size_t *len)
{
	uint8_t *all;
	uint64_t n;

	ima_reader_init(r, list_path, TPM2_ALG_SHA1);
	if (ima_reader_update(r) != 0 || ima_reader_get(r, 0, &all, len, &n) != 0)
		die("cannot read the list");
	return all;
}

/* Replace the list with the concatenation of parts (new file, rename). */
struct iovec_part {
	const uint8_t	*p;
	size_t		 n;
};

static void
write_list(const struct iovec_part *parts, size_t nparts)
{
	char *tmp = xasprintf("%s.tmp.%ld", list_path, (long)getpid());
	FILE *f;

	if ((f = fopen(tmp, "w")) == NULL)
		goto fail;
	for (size_t i = 0; i < nparts; i++)
		if (parts[i].n > 0 && fwrite(parts[i].p, 1, parts[i].n, f) != parts[i].n)
			goto fail;
	if (fclose(f) != 0 || rename(tmp, list_path) != 0)
		goto fail;
	free(tmp);
	return;
 fail:
	fprintf(stderr, "ima_kernel: %s: %s\n", tmp, strerror(errno));
	exit(1);
}

static void
swap_last(void)
{
	struct ima_reader r;
	uint8_t *all;
	size_t len, a, b, c;

	all = load_list(&r, &len);
	if (r.n < 2) {
		fprintf(stderr, "ima_kernel: swap: need a list of at least two entries\n");
		exit(1);
	}
	a = (size_t)r.off[r.n - 2];
	b = (size_t)r.off[r.n - 1];
	c = (size_t)r.off[r.n];
	{
		const struct iovec_part parts[3] = {
			{ all, a }, { all + b, c - b }, { all + a, b - a },
		};

		write_list(parts, 3);
	}
	free(all);
	ima_reader_free(&r);
}

static void
drop_last(unsigned long k)
{
	struct ima_reader r;
	uint8_t *all;
	size_t len;

	all = load_list(&r, &len);
	if (k > r.n) {
		fprintf(stderr, "ima_kernel: drop: the list has only %llu entries\n",
		    (unsigned long long)r.n);
		exit(1);
	}
	{
		const struct iovec_part parts[1] = { { all, (size_t)r.off[r.n - k] } };

		write_list(parts, 1);
	}
	free(all);
	ima_reader_free(&r);
}

static void
dup_last(void)
{
	struct ima_reader r;
	uint8_t *all;
	size_t len, a, c;

	all = load_list(&r, &len);
	if (r.n < 1) {
		fprintf(stderr, "ima_kernel: dup: empty list\n");
		exit(1);
	}
	a = (size_t)r.off[r.n - 1];
	c = (size_t)r.off[r.n];
	{
		const struct iovec_part parts[2] = { { all, c }, { all + a, c - a } };

		write_list(parts, 2);
	}
	free(all);
	ima_reader_free(&r);
}

static enum layout
layout_from(const char *s)
{
	if (strcmp(s, "ima-ng") == 0)
		return LAY_NG;
	if (strcmp(s, "ima-sig") == 0)
		return LAY_SIG;
	if (strcmp(s, "ima-buf") == 0)
		return LAY_BUF;
	if (strcmp(s, "ima") == 0)
		return LAY_IMA;
	fprintf(stderr, "ima_kernel: unknown layout %s\n", s);
	exit(2);
}

static unsigned
pcr_from(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v > 23) {
		fprintf(stderr, "ima_kernel: bad PCR %s\n", s);
		exit(2);
	}
	return (unsigned)v;
}

int
main(int argc, char **argv)
{
	uint8_t d[32], *b = NULL;
	size_t n, bl = 0;
	int ch;

	tpm.ak_alg = TPM2_ALG_ECC;
	while ((ch = getopt(argc, argv, "t:l:s:neL:T:P:X:")) != -1) {
		switch (ch) {
		case 't': tpm.tcti = optarg; break;
		case 'l': list_path = optarg; break;
		case 's':
			if (hex_decode_alloc(optarg, 4096, &sig, &sig_len) != 0)
				die("-s");
			break;
		case 'n': no_extend = 1; break;
		case 'e': no_append = 1; break;
		case 'L': layout = layout_from(optarg); break;
		case 'T': label = optarg; break;
		case 'P': hdr_pcr = pcr_from(optarg); break;
		case 'X': ext_pcr = (int)pcr_from(optarg); break;
		default: goto usage;
		}
	}
	argc -= optind;
	argv += optind;
	if (tpm.tcti == NULL || list_path == NULL || argc < 1)
		goto usage;
	if (label != NULL && (strlen(label) == 0 || strlen(label) > 16)) {
		fprintf(stderr, "ima_kernel: -T: 1 to 16 characters\n");
		return 2;
	}
	setenv("TSS2_LOG", "all+NONE", 0);
	if (strcmp(argv[0], "boot") == 0)
		boot();
	else if (strcmp(argv[0], "swap") == 0)
		swap_last();
	else if (strcmp(argv[0], "dup") == 0 && argc == 1)
		dup_last();
	else if (strcmp(argv[0], "drop") == 0 && argc <= 2)
		drop_last(argc == 2 ? strtoul(argv[1], NULL, 10) : 1);
	else if (strcmp(argv[0], "file") == 0 && argc > 1)
		for (int i = 1; i < argc; i++)
			file(argv[i]);
	else if (strcmp(argv[0], "digest") == 0 && argc == 3) {
		size_t want = effective_layout(LAY_DEFAULT) == LAY_IMA ? 20 : 32;

		if (hex_decode(argv[2], d, sizeof(d), &n) != 0 || n != want)
			goto usage;
		emit(argv[1], d, 0, LAY_DEFAULT, NULL, 0);
	} else if (strcmp(argv[0], "buf") == 0 && argc == 3) {
		if (hex_decode_alloc(argv[2], 65536, &b, &bl) != 0)
			goto usage;
		if (tpm2_hash(TPM2_ALG_SHA256, b, bl, d, &n) != 0)
			die("hash");
		emit(argv[1], d, 0, LAY_BUF, b, bl);
		free(b);
	} else if (strcmp(argv[0], "bulk") == 0 && argc == 3) {
		unsigned long cnt = strtoul(argv[1], NULL, 10);
		unsigned long nl = strtoul(argv[2], NULL, 10);

		if (cnt == 0 || nl < 24 || nl > 4000)
			goto usage;
		bulk(cnt, (size_t)nl);
	} else if (strcmp(argv[0], "violation") == 0 && (argc == 2 || argc == 3)) {
		memset(d, 0, sizeof(d));
		if (argc == 3 && (hex_decode(argv[2], d, sizeof(d), &n) != 0 ||
		    n != (effective_layout(LAY_DEFAULT) == LAY_IMA ? 20u : 32u)))
			goto usage;
		emit(argv[1], d, 1, LAY_DEFAULT, NULL, 0);
	} else
		goto usage;
	free(sig);
	return 0;
 usage:
	fprintf(stderr, "usage: ima_kernel -t TCTI -l LIST [-n | -e] [-s SIGHEX] "
	    "[-L ima-ng|ima-sig|ima-buf|ima] [-T LABEL] [-P PCR] [-X PCR]\n"
	    "    boot | file PATH... | digest NAME HEX | buf NAME HEX |\n"
	    "    violation NAME [HEX] | swap | drop [N] | dup |\n"
	    "    bulk COUNT NAMELEN\n");
	return 2;
}
