/*
 * ima_cmd.c — `assayctl ima replay [--bank ALG] [--ascii]
 * [--template-hash-alg ALG] FILE`: check every template hash of an IMA
 * list and print {"entries","templates","violations","pcr10":{bank:hex}}
 * on stdout. Non-SHA-1 banks appear twice: "<bank>" (each bank hashes
 * the template data, kernels >= 5.8) and "<bank>-padded" (SHA-1 template
 * hash zero-padded, older kernels). One pass over the bytes replays every
 * chain asked for (all banks, or --bank's): a binary list is decoded
 * entry by entry (ima_replay_binary), never held as an entry array, and
 * only the digests those chains need are computed. A refused list prints
 * "FAIL: <detail>" on stderr and exits 1; usage and I/O errors exit 2.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/evidence/ima.h"
#include "common/evidence/tpm2.h"
#include "tools/cmd.h"
#include "tools/ima_cmd.h"

#define IMA_FILE_MAX	(1024u * 1024 * 1024)

static const uint16_t all_banks[] = {
	TPM2_ALG_SHA1, TPM2_ALG_SHA256, TPM2_ALG_SHA384, TPM2_ALG_SHA512,
	TPM2_ALG_SM3_256,
};

static void
print_hex(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("%02x", p[i]);
}

/*
 * A hash named by an option (TPM name or IMA name), or 0 when the option
 * is absent. -1 (message printed) when the name is unknown.
 */
static int
hash_opt(const struct cmd_args *a, enum opt_slot s, const char *what,
    uint16_t *alg)
{
	const struct tpm2_hash *th;
	const char *v = cmd_str(a, s);

	*alg = 0;
	if (v == NULL)
		return 0;
	if ((th = tpm2_hash_by_name(v)) == NULL &&
	    (th = tpm2_hash_by_alg(ima_digest_alg_by_name((const uint8_t *)v,
	    strlen(v)))) == NULL) {
		fprintf(stderr, "unknown %s %s\n", what, v);
		return -1;
	}
	*alg = th->alg;
	return 0;
}

/*
 * The chains to replay: every bank OpenSSL has (or just bank), each
 * under BANK_HASH and, but for SHA-1, SHA1_PADDED. Returns how many.
 */
static size_t
pick_chains(uint16_t bank, struct ima_chain *ch)
{
	size_t i, n = 0;

	for (i = 0; i < sizeof(all_banks) / sizeof(all_banks[0]); i++) {
		if (bank != 0 && all_banks[i] != bank)
			continue;
		ima_chain_init(&ch[n], all_banks[i], IMA_EXTEND_BANK_HASH);
		if (ch[n].len == 0)	/* not in this OpenSSL */
			continue;
		n++;
		if (all_banks[i] != TPM2_ALG_SHA1)
			ima_chain_init(&ch[n++], all_banks[i],
			    IMA_EXTEND_SHA1_PADDED);
	}
	return n;
}

/* The list's bytes: mapped (*mapped 1) or read (*mapped 0). */
struct list_bytes {
	uint8_t		*d;
	size_t		 n;
	int		 mapped;
};

/*
 * A regular file is mapped read-only and populated in one call: no copy
 * of its bytes and no faults on a fresh buffer (a 100,000-entry list is
 * 12 MB: several ms of its replay when read). A file another process
 * truncates while it is mapped ends the command with SIGBUS (it only
 * reads). Anything else (stdin, /sys files that stat as empty, a failed
 * map) goes through cmd_load(). 0, or 2 (message printed).
 */
static int
list_load(const char *path, struct list_bytes *b)
{
	struct stat st;
	void *m;
	int fd;

	memset(b, 0, sizeof(*b));
	if (strcmp(path, "-") != 0 && (fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		m = MAP_FAILED;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
		    (uintmax_t)st.st_size <= IMA_FILE_MAX)
			m = mmap(NULL, (size_t)st.st_size, PROT_READ,
			    MAP_PRIVATE | MAP_POPULATE, fd, 0);
		close(fd);
		if (m != MAP_FAILED) {
			b->d = m;
			b->n = (size_t)st.st_size;
			b->mapped = 1;
			return 0;
		}
	}
	return cmd_load(path, IMA_FILE_MAX, &b->d, &b->n) != 0 ? 2 : 0;
}

static void
list_unload(struct list_bytes *b)
{
	if (b->mapped)
		munmap(b->d, b->n);
	else
		free(b->d);
	memset(b, 0, sizeof(*b));
}

/* Replay an ASCII list: parsed first (its hex is decoded into l). */
static int
replay_ascii(const uint8_t *d, size_t n, uint16_t thash, struct ima_chain *ch,
    size_t nch, struct ima_tally *t, size_t *bad)
{
	struct ima_list l = { 0 };
	int r;

	if ((r = ima_parse_ascii_alg((const char *)d, n, thash, &l)) == 0)
		r = ima_replay_list(&l, ch, nch, t, bad);
	ima_list_free(&l);
	return r;
}

static void
print_result(const struct ima_tally *t, const struct ima_chain *ch, size_t nch)
{
	const struct tpm2_hash *th;
	size_t i;
	int first = 1;

	printf("{\"entries\":%zu,\"templates\":{", t->entries);
	for (i = 0; i < IMA_TMPL_MAX; i++) {
		if (t->tmpl[i] == 0)
			continue;
		printf("%s\"%s\":%zu", first ? "" : ",", ima_template_name((int)i),
		    t->tmpl[i]);
		first = 0;
	}
	printf("},\"violations\":%zu,\"pcr10\":{", t->violations);
	for (i = 0; i < nch; i++) {
		th = tpm2_hash_by_alg(ch[i].bank);
		printf("%s\"%s%s\":\"", i ? "," : "", th->name,
		    ch[i].scheme == IMA_EXTEND_SHA1_PADDED ? "-padded" : "");
		print_hex(ch[i].pcr, ch[i].len);
		printf("\"");
	}
	printf("}}\n");
}

int
cmd_ima_replay(struct cmd_args *a)
{
	struct ima_chain ch[IMA_CHAINS_MAX];
	struct list_bytes b;
	struct ima_tally t;
	uint16_t bank, thash;
	size_t nch, bad;
	int rc;

	if (hash_opt(a, OPT_BANK, "bank", &bank) != 0 ||
	    hash_opt(a, OPT_TEMPLATE_HASH, "hash", &thash) != 0)
		return 2;
	if (list_load(a->pos[0], &b) != 0)
		return 2;
	nch = pick_chains(bank, ch);
	if (cmd_flag(a, OPT_ASCII))
		rc = replay_ascii(b.d, b.n, thash, ch, nch, &t, &bad);
	else
		rc = ima_replay_binary(b.d, b.n, thash ? thash : TPM2_ALG_SHA1, ch,
		    nch, &t, &bad);
	if (rc != 0) {
		fprintf(stderr, "FAIL: %s: %s\n", a->pos[0], assay_err_detail());
		rc = 1;
	} else
		print_result(&t, ch, nch);
	list_unload(&b);
	return rc;
}
