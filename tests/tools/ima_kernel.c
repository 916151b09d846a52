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
 *   ima_kernel -t TCTI -l LIST violation NAME       a ToMToU-style violation
 *   ima_kernel ... -s SIGHEX file PATH              ima-sig with a signature
 *   ima_kernel ... -n                               append only, no extend
 *   ima_kernel -t TCTI -l LIST swap                 swap the last two entries
 *   ima_kernel ... -e                               extend only (an entry
 *                                                   appended earlier with -n)
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

static struct tpm_cfg tpm;
static const char *list_path;
static uint8_t *sig;
static size_t sig_len;
static int no_extend, no_append;

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

/* Append one entry (one write), then extend PCR 10 in sha1 and sha256. */
static void
emit(const char *name, const uint8_t digest[32], int violation)
{
	struct buf td, e;
	uint8_t h1[20], h256[32], ones[32];
	const char *tmpl = sig != NULL ? "ima-sig" : "ima-ng";
	uint8_t dng[8 + 32];
	size_t n;
	int fd;

	buf_init(&td);
	memcpy(dng, "sha256:", 8);		/* includes the NUL */
	memcpy(dng + 8, digest, 32);
	field(&td, dng, sizeof(dng));
	field(&td, name, strlen(name) + 1);
	if (sig != NULL)
		field(&td, sig, sig_len);
	if (tpm2_hash(TPM2_ALG_SHA1, td.d, td.len, h1, &n) != 0 ||
	    tpm2_hash(TPM2_ALG_SHA256, td.d, td.len, h256, &n) != 0)
		die("hash");
	buf_init(&e);
	put_le32(&e, 10);
	if (violation) {
		memset(h1, 0, sizeof(h1));
		memset(ones, 0xff, sizeof(ones));
	}
	buf_put(&e, h1, sizeof(h1));
	put_le32(&e, (uint32_t)strlen(tmpl));
	buf_put(&e, tmpl, strlen(tmpl));
	field(&e, td.d, td.len);
	if (!no_append && ((fd = open(list_path, O_WRONLY | O_APPEND | O_CREAT,
	    0644)) < 0 || write(fd, e.d, e.len) != (ssize_t)e.len || close(fd) != 0)) {
		fprintf(stderr, "ima_kernel: %s: %s\n", list_path, strerror(errno));
		exit(1);
	}
	if (!no_extend) {
		const uint16_t algs[2] = { TPM2_ALG_SHA1, TPM2_ALG_SHA256 };
		const uint8_t *d[2] = { violation ? ones : h1, violation ? ones : h256 };

		if (tpm_pcr_extend(&tpm, 10, algs, d, 2) != 0)
			die("extend");
	}
	buf_free(&td);
	buf_free(&e);
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
	emit("boot_aggregate", agg, 0);
}

static void
file(const char *path)
{
	uint8_t d[32], chunk[65536];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int n;
	ssize_t got;
	int fd;

	if ((fd = open(path, O_RDONLY)) < 0) {
		fprintf(stderr, "ima_kernel: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while ((got = read(fd, chunk, sizeof(chunk))) > 0)
		EVP_DigestUpdate(ctx, chunk, (size_t)got);
	close(fd);
	EVP_DigestFinal_ex(ctx, d, &n);
	EVP_MD_CTX_free(ctx);
	emit(path, d, 0);
}

static void
swap_last(void)
{
	struct ima_reader r;
	uint8_t *all;
	size_t len, a, b, c;
	uint64_t n;
	FILE *f;

	ima_reader_init(&r, list_path, TPM2_ALG_SHA1);
	if (ima_reader_update(&r) != 0 || r.n < 2 ||
	    ima_reader_get(&r, 0, &all, &len, &n) != 0)
		die("swap: need a list of at least two entries");
	a = (size_t)r.off[r.n - 2];
	b = (size_t)r.off[r.n - 1];
	c = (size_t)r.off[r.n];
	if ((f = fopen(list_path, "w")) == NULL ||
	    fwrite(all, 1, a, f) != a || fwrite(all + b, 1, c - b, f) != c - b ||
	    fwrite(all + a, 1, b - a, f) != b - a || fclose(f) != 0) {
		fprintf(stderr, "ima_kernel: %s: %s\n", list_path, strerror(errno));
		exit(1);
	}
	free(all);
	ima_reader_free(&r);
}

int
main(int argc, char **argv)
{
	uint8_t d[32];
	size_t n;
	int ch;

	tpm.ak_alg = TPM2_ALG_ECC;
	while ((ch = getopt(argc, argv, "t:l:s:ne")) != -1) {
		switch (ch) {
		case 't': tpm.tcti = optarg; break;
		case 'l': list_path = optarg; break;
		case 's':
			if (hex_decode_alloc(optarg, 4096, &sig, &sig_len) != 0)
				die("-s");
			break;
		case 'n': no_extend = 1; break;
		case 'e': no_append = 1; break;
		default: goto usage;
		}
	}
	argc -= optind;
	argv += optind;
	if (tpm.tcti == NULL || list_path == NULL || argc < 1)
		goto usage;
	setenv("TSS2_LOG", "all+NONE", 0);
	if (strcmp(argv[0], "boot") == 0)
		boot();
	else if (strcmp(argv[0], "swap") == 0)
		swap_last();
	else if (strcmp(argv[0], "file") == 0 && argc > 1)
		for (int i = 1; i < argc; i++)
			file(argv[i]);
	else if (strcmp(argv[0], "digest") == 0 && argc == 3) {
		if (hex_decode(argv[2], d, sizeof(d), &n) != 0 || n != 32)
			goto usage;
		emit(argv[1], d, 0);
	} else if (strcmp(argv[0], "violation") == 0 && argc == 2) {
		memset(d, 0, sizeof(d));
		emit(argv[1], d, 1);
	} else
		goto usage;
	free(sig);
	return 0;
 usage:
	fprintf(stderr, "usage: ima_kernel -t TCTI -l LIST [-n | -e] [-s SIGHEX] "
	    "boot | file PATH... | digest NAME HEX | violation NAME | swap\n");
	return 2;
}
