/*
 * bench_fleet.c — memory and throughput of a verifier holding a fleet: one
 * compiled policy of 100,000 sha256 digests (ima: allow_digests) shared by
 * 1,000 simulated agents, each attested in 10 incremental rounds of 1,000
 * IMA entries (10,000 per agent, boot_aggregate first). Every round is
 * what the verifier gets from an agent: a fresh nonce, an evidence
 * document (JSON) with a software quote signed by an EC P-256 AK (one key
 * for every agent; PCRs 0-9 fixed, PCR 10 the replay so far) and the new
 * list fragment. verify_run() checks it with the agent's IMA state from
 * the last round, like the verifier does; only that small state (struct
 * vagent + its verify_state JSON) is kept, the round's documents are
 * freed. Even agents answer in binary form 3 (what the verifier asks),
 * odd ones in JSON (agents that predate the binary forms). Reports RSS
 * (policy, after all rounds), bytes kept per agent and entries/s through
 * verify_run (document parse + quote verify + IMA stage) on one thread,
 * per form: `ima_pipeline:` is the binary form's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "tests/unit/quote_fixture.h"

#include "common/buf.h"
#include "common/encode.h"
#include "common/err.h"
#include "common/xmalloc.h"
#include "common/proto/doc.h"
#include "common/evidence/ima.h"
#include "common/evidence/pcr.h"
#include "common/evidence/tpm2.h"
#include "common/evidence/verdict.h"
#include "common/appraise/policy.h"
#include "common/appraise/policy_ima.h"
#include "verifier/verifier.h"
#include "common/appraise/verify.h"
#include "common/appraise/verify_ima.h"

#define NDIGESTS	100000
#define NAGENTS		1000
#define NROUNDS		10
#define PER_ROUND	1000
#define PER_AGENT	(NROUNDS * PER_ROUND)

struct fleet {
	struct policy		*policy;
	uint8_t			(*digests)[32];	/* the policy's, for the agents */
	EVP_PKEY		*ak;
	struct pcr_selection	 sel;
	struct pcr_values	 base;		/* PCRs 0-9 of every agent */
	uint8_t			 boot_aggregate[32];
	EVP_MD			*sha256;
	EVP_MD_CTX		*ctx;
	struct vagent		*va;		/* what the verifier keeps */
	uint8_t			(*pcr10)[32];	/* agent side: its TPM's PCR 10 */
	uint64_t		 entries;
	double			 verify_s;
	double			 form_s[2];	/* [0] JSON, [1] binary */
	uint64_t		 form_entries[2];
	int			 checked;	/* splice compared with jansson */
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long
rss_kb(void)
{
	long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL)
		return 0;
	if (fscanf(f, "%ld %ld", &size, &res) != 2)
		res = 0;
	fclose(f);
	return res * 4;		/* 4 KiB pages */
}

/* Deterministic digest i: splitmix64 stream. */
static void
digest_of(uint64_t i, uint8_t d[32])
{
	uint64_t z;

	for (size_t k = 0; k < 4; k++) {
		z = (i * 4 + k + 1) * 0x9e3779b97f4a7c15ULL;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		z ^= z >> 31;
		memcpy(d + 8 * k, &z, 8);
	}
}

static void
put_hex(struct buf *b, const uint8_t *d, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	char o[2];

	for (size_t i = 0; i < n; i++) {
		o[0] = hx[d[i] >> 4];
		o[1] = hx[d[i] & 15];
		buf_put(b, o, 2);
	}
}

static void
sha256(struct fleet *f, const void *p, size_t n, const void *p2, size_t n2,
    uint8_t out[32])
{
	if (EVP_DigestInit_ex(f->ctx, f->sha256, NULL) != 1 ||
	    EVP_DigestUpdate(f->ctx, p, n) != 1 ||
	    (n2 > 0 && EVP_DigestUpdate(f->ctx, p2, n2) != 1) ||
	    EVP_DigestFinal_ex(f->ctx, out, NULL) != 1)
		abort();
}

static void
u32le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/*
 * Append one ima-ng entry (sha256 file digest, sha256 template hash as in
 * binary_runtime_measurements_sha256) and extend pcr with it: in the
 * SHA-256 bank the extended digest is that template hash.
 */
static void
put_entry(struct fleet *f, struct buf *b, const uint8_t dg[32],
    const char *path, uint8_t pcr[32])
{
	uint8_t td[4 + 8 + 32 + 4 + 256], hdr[4], th[32];
	size_t pl = strlen(path) + 1, tl;

	if (pl > 256)
		abort();
	u32le(td, 8 + 32);
	memcpy(td + 4, "sha256:", 8);		/* with its NUL */
	memcpy(td + 12, dg, 32);
	u32le(td + 44, (uint32_t)pl);
	memcpy(td + 48, path, pl);
	tl = 48 + pl;
	sha256(f, td, tl, NULL, 0, th);
	u32le(hdr, IMA_PCR);
	buf_put(b, hdr, 4);
	buf_put(b, th, 32);
	u32le(hdr, 6);
	buf_put(b, hdr, 4);
	buf_put(b, "ima-ng", 6);
	u32le(hdr, (uint32_t)tl);
	buf_put(b, hdr, 4);
	buf_put(b, td, tl);
	sha256(f, pcr, 32, th, 32, pcr);
}

static void
fleet_policy(struct fleet *f, double *secs, long *rss_growth)
{
	struct buf t;
	long r0;
	double t0;
	size_t i;

	f->digests = xcalloc(NDIGESTS, sizeof(*f->digests));
	for (i = 0; i < NDIGESTS; i++)
		digest_of(i, f->digests[i]);
	r0 = rss_kb();
	buf_init(&t);
	buf_put(&t, "name: fleet\nima:\n  unknown: fail\n  allow_digests:\n", 50);
	for (i = 0; i < NDIGESTS; i++) {
		buf_put(&t, "    - sha256:", 13);
		put_hex(&t, f->digests[i], 32);
		buf_put(&t, "\n", 1);
	}
	t0 = now();
	if (policy_compile((const char *)t.d, t.len, NULL, &f->policy) != ASSAY_OK) {
		fprintf(stderr, "policy: %s\n", assay_err_detail());
		exit(1);
	}
	*secs = now() - t0;
	buf_free(&t);
	*rss_growth = rss_kb() - r0;
}

static void
fleet_init(struct fleet *f)
{
	const uint8_t *pcrs[10];
	uint8_t d[32];
	size_t n;
	unsigned i;

	f->ak = soft_key_ec();
	f->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	f->ctx = EVP_MD_CTX_new();
	if (f->sha256 == NULL || f->ctx == NULL)
		abort();
	policy_selection(f->policy, &f->sel);
	if (f->sel.n != 1 || f->sel.bank[0].hash != TPM2_ALG_SHA256 ||
	    (f->sel.bank[0].mask & 0x7ff) != 0x7ff) {
		fprintf(stderr, "unexpected policy selection\n");
		exit(1);
	}
	pcr_values_init(&f->base);
	for (i = 0; i < 10; i++) {
		memset(d, (int)(0x10 + i), sizeof(d));
		pcr_values_set(&f->base, TPM2_ALG_SHA256, i, d, sizeof(d));
		pcrs[i] = pcr_values_get(&f->base, TPM2_ALG_SHA256, i);
	}
	if (ima_boot_aggregate(TPM2_ALG_SHA256, pcrs, f->boot_aggregate, &n) != 0 ||
	    n != 32)
		abort();
}

/*
 * The agent's answer to round r: entries r*PER_ROUND.. of agent a's list
 * (boot_aggregate first, then files with per-agent paths and digests from
 * the policy), its quote over PCRs 0-10 with the verifier's nonce, as the
 * JSON text the agent sends, or (binary) binary form 3.
 */
static char *
agent_round(struct fleet *f, unsigned a, unsigned r, const uint8_t *nonce,
    size_t nonce_len, int binary, size_t *len)
{
	struct evidence_doc d;
	struct soft_quote q;
	struct buf l;
	char path[96], *text, *b64, *out, *hole;
	size_t n, nb;
	uint64_t idx;
	json_t *j;

	buf_init(&l);
	for (unsigned k = 0; k < PER_ROUND; k++) {
		idx = (uint64_t)r * PER_ROUND + k;
		if (idx == 0) {
			put_entry(f, &l, f->boot_aggregate, "boot_aggregate",
			    f->pcr10[a]);
			continue;
		}
		snprintf(path, sizeof(path), "/opt/agent%04u/lib/mod%05llu.so", a,
		    (unsigned long long)idx);
		put_entry(f, &l, f->digests[(a * 7919ULL + idx * 31) % NDIGESTS],
		    path, f->pcr10[a]);
	}
	soft_quote_default(&q);
	q.sel = f->sel;
	q.vals = f->base;
	pcr_values_set(&q.vals, TPM2_ALG_SHA256, IMA_PCR, f->pcr10[a], 32);
	memcpy(q.nonce, nonce, nonce_len);
	q.nonce_len = nonce_len;
	q.clock = 100000 + (uint64_t)r * 60000;

	evidence_doc_init(&d);
	d.attest = soft_quote_attest(&q, &d.attest_len);
	d.sig = soft_sign(f->ak, TPM2_ALG_ECDSA, TPM2_ALG_SHA256, 0, d.attest,
	    d.attest_len, &d.sig_len);
	d.pcrs = q.vals;
	d.has_ima = 1;
	d.ima_from = (uint64_t)r * PER_ROUND;
	d.ima_count = PER_ROUND;
	d.ima_thash_alg = TPM2_ALG_SHA256;
	if (binary) {
		d.ima = buf_steal(&l, &d.ima_len);
		if (evidence_doc_encode_bin3(&d, (uint8_t **)&out, len) != 0)
			abort();
		evidence_doc_free(&d);
		return out;
	}
	/*
	 * The document without the list, then the list's base64 spliced into
	 * its empty "list" string: jansson's dumper would spend more time
	 * escaping the 180 KB string than the verifier spends on the round.
	 * The first document is also dumped whole and compared.
	 */
	j = evidence_doc_to_json(&d);
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (text == NULL || (hole = strstr(text, "\"list\":\"\"")) == NULL)
		abort();
	hole += 8;
	b64 = base64_encode(l.d, l.len);
	n = strlen(text);
	nb = strlen(b64);
	out = xmalloc(n + nb + 1);
	memcpy(out, text, (size_t)(hole - text));
	memcpy(out + (hole - text), b64, nb);
	memcpy(out + (hole - text) + nb, hole, n - (size_t)(hole - text) + 1);
	free(text);
	free(b64);
	if (!f->checked) {
		d.ima = buf_steal(&l, &d.ima_len);
		j = evidence_doc_to_json(&d);
		text = json_dumps(j, JSON_COMPACT);
		json_decref(j);
		if (text == NULL || strcmp(text, out) != 0) {
			fprintf(stderr, "spliced document differs from jansson's\n");
			exit(1);
		}
		free(text);
		f->checked = 1;
	}
	buf_free(&l);
	evidence_doc_free(&d);
	*len = n + nb;
	return out;
}

static void
fail_round(const struct verify_job *j, unsigned a, unsigned r)
{
	fprintf(stderr, "agent %u round %u: %zu failures (%s: %s), accepted %zu, "
	    "retry %d (%s)\n", a, r, j->verdict.nfail,
	    j->verdict.nfail ? j->verdict.fail[0].id : "-",
	    j->verdict.nfail ? j->verdict.fail[0].detail : "-", j->ima_accepted,
	    j->retry, j->retry_reason);
	exit(1);
}

/* One round for agent a, as the scheduler and sched_verify_done do it. */
static void
verify_round(struct fleet *f, unsigned a, unsigned r)
{
	struct vagent *va = &f->va[a];
	struct verify_job *j;
	uint8_t *body;
	size_t len;
	double t0;

	if (RAND_bytes(va->nonce, 20) != 1)
		abort();
	va->nonce_valid = 1;
	body = (uint8_t *)agent_round(f, a, r, va->nonce, 20, a % 2 == 0, &len);

	t0 = now();
	j = verify_job_new(va->rec.id, body, len, f->ak, f->policy);
	memcpy(j->nonce, va->nonce, 20);
	j->nonce_len = 20;
	j->sel = va->sel;
	j->prev = va->rec.clock;
	j->ima_in = va->ima;
	verify_run(j);
	t0 = now() - t0;
	f->verify_s += t0;
	f->form_s[a % 2 == 0] += t0;
	f->form_entries[a % 2 == 0] += j->ima_accepted;

	if (!verdict_ok(&j->verdict) || j->verdict.nfail != 0 || j->retry ||
	    j->ima_accepted != PER_ROUND || !j->ima_out.valid ||
	    j->ima_out.rp.count != (uint64_t)(r + 1) * PER_ROUND)
		fail_round(j, a, r);
	/* keep the round's outcome, nothing else */
	va->ima = j->ima_out;
	va->rec.clock = j->qres.clock;
	va->nonce_valid = 0;
	free(va->rec.verify_state);
	va->rec.verify_state = ima_state_to_json(&va->ima);
	va->rec.attest_ok++;
	f->entries += j->ima_accepted;
	verify_job_free(j);
}

int
main(void)
{
	struct fleet f;
	double pol_s, t0, wall;
	long rss_pol, rss0, rss1;
	size_t state_json = 0;
	unsigned a, r;

	memset(&f, 0, sizeof(f));
	fleet_policy(&f, &pol_s, &rss_pol);
	fleet_init(&f);
	rss0 = rss_kb();

	f.va = xcalloc(NAGENTS, sizeof(*f.va));
	f.pcr10 = xcalloc(NAGENTS, sizeof(*f.pcr10));
	for (a = 0; a < NAGENTS; a++) {
		snprintf(f.va[a].rec.id, sizeof(f.va[a].rec.id), "agent-%04u", a);
		f.va[a].sel = f.sel;
	}
	t0 = now();
	for (r = 0; r < NROUNDS; r++)
		for (a = 0; a < NAGENTS; a++)
			verify_round(&f, a, r);
	wall = now() - t0;
	rss1 = rss_kb();

	for (a = 0; a < NAGENTS; a++)
		state_json += strlen(f.va[a].rec.verify_state) + 1;
	printf("fleet: %d agents x %d entries (%d rounds of %d), shared %d-digest "
	    "policy: RSS %.1f MB (policy %.1f MB, compiled in %.2f s; before the "
	    "agents %.1f MB, growth %.2f MB), per-agent state %zu bytes "
	    "(struct vagent %zu + IMA state JSON %zu), %.0f entries/s through "
	    "verify_run\n", NAGENTS, PER_AGENT, NROUNDS, PER_ROUND, NDIGESTS,
	    rss1 / 1024.0, rss_pol / 1024.0, pol_s, rss0 / 1024.0,
	    (rss1 - rss0) / 1024.0, sizeof(struct vagent) + state_json / NAGENTS,
	    sizeof(struct vagent), state_json / NAGENTS, f.entries / f.verify_s);
	printf("fleet: %llu entries in %d verify_run calls, %.2f s verifying "
	    "(%.0f rounds/s, 1 thread: document parse + quote verify + IMA "
	    "stage), %.2f s wall incl. generating and signing the evidence\n",
	    (unsigned long long)f.entries, NAGENTS * NROUNDS, f.verify_s,
	    NAGENTS * NROUNDS / f.verify_s, wall);
	printf("ima_pipeline: %.0f entries/s (answer bytes -> verdict on one "
	    "core, binary form 3, %d-entry rounds: parse, quote verify, replay, "
	    "%d-digest policy; the JSON form %.0f entries/s)\n",
	    f.form_entries[1] / f.form_s[1], PER_ROUND, NDIGESTS,
	    f.form_entries[0] / f.form_s[0]);

	for (a = 0; a < NAGENTS; a++)
		free(f.va[a].rec.verify_state);
	free(f.va);
	free(f.pcr10);
	free(f.digests);
	EVP_MD_CTX_free(f.ctx);
	EVP_MD_free(f.sha256);
	EVP_PKEY_free(f.ak);
	policy_unref(f.policy);
	return 0;
}
