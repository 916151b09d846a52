/*
 * ima_gen.h — test helpers shared by the IMA unit tests, fuzz seeds and
 * the bench: build binary IMA entries the way the kernel writes them
 * (ima_fs.c ima_measurements_show) and render a parsed list back to the
 * kernel's ASCII form. Header-only, static functions.
 */
#ifndef ASSAY_TEST_IMA_GEN_H
#define ASSAY_TEST_IMA_GEN_H

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/buf.h"
#include "common/evidence/ima.h"
#include "common/evidence/tpm2.h"

static inline void
gen_u32le(struct buf *b, uint32_t v)
{
	uint8_t d[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };

	buf_put(b, d, 4);
}

/*
 * One entry of template tmpl ("ima-ng", "ima-sig", "ima-buf") with file
 * digest "dalg:"+digest, name path and (sig/buf templates) extra bytes.
 * The template hash is thash_alg's hash of the template data, or zeros
 * for a violation.
 */
static inline void
gen_entry(struct buf *b, uint16_t thash_alg, const char *tmpl, const char *dalg,
    const uint8_t *digest, size_t dlen, const char *path,
    const uint8_t *extra, size_t extralen, int violation)
{
	struct buf t;
	uint8_t th[TPM2_MAX_DIGEST] = { 0 };
	size_t thl = tpm2_hash_by_alg(thash_alg)->size, l;

	buf_init(&t);
	gen_u32le(&t, (uint32_t)(strlen(dalg) + 2 + dlen));
	buf_put(&t, dalg, strlen(dalg));
	buf_put(&t, ":", 2);		/* ':' and the NUL */
	buf_put(&t, digest, dlen);
	gen_u32le(&t, (uint32_t)strlen(path) + 1);
	buf_put(&t, path, strlen(path) + 1);
	if (strcmp(tmpl, "ima-ng") != 0) {
		gen_u32le(&t, (uint32_t)extralen);
		buf_put(&t, extra, extralen);
	}
	if (!violation)
		tpm2_hash(thash_alg, t.d, t.len, th, &l);
	gen_u32le(b, 10);
	buf_put(b, th, thl);
	gen_u32le(b, (uint32_t)strlen(tmpl));
	buf_put(b, tmpl, strlen(tmpl));
	gen_u32le(b, (uint32_t)t.len);
	buf_put(b, t.d, t.len);
	buf_free(&t);
}

/* n ima-ng entries, sha256 file digests, thash_alg template hashes;
 * entry i is a violation when viol_every && i % viol_every == 1. */
static inline void
gen_list(struct buf *b, uint16_t thash_alg, size_t n, size_t viol_every)
{
	uint8_t dg[32];
	char path[64];
	size_t i, l;

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/usr/lib/x86_64-linux-gnu/lib%zu.so", i);
		tpm2_hash(TPM2_ALG_SHA256, path, strlen(path), dg, &l);
		gen_entry(b, thash_alg, "ima-ng", "sha256", dg, 32, path, NULL, 0,
		    viol_every && i % viol_every == 1);
	}
}

static inline void
gen_hex(struct buf *b, const uint8_t *p, size_t n)
{
	char h[3];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(h, sizeof(h), "%02x", p[i]);
		buf_put(b, h, 2);
	}
}

/* ASCII as ima_ascii_measurements_show() prints it. */
static inline void
gen_ascii(struct buf *b, const struct ima_list *l)
{
	const struct ima_entry *e;
	char pcr[16];
	size_t i;

	for (i = 0; i < l->n; i++) {
		e = &l->e[i];
		snprintf(pcr, sizeof(pcr), "%2u ", e->pcr);
		buf_put(b, pcr, strlen(pcr));
		gen_hex(b, e->thash, tpm2_hash_by_alg(l->thash_alg)->size);
		buf_put(b, " ", 1);
		buf_put(b, ima_template_name(e->tmpl), strlen(ima_template_name(e->tmpl)));
		buf_put(b, " ", 1);
		if (e->tmpl != IMA_TMPL_IMA) {
			buf_put(b, e->dalg_name.p, e->dalg_name.len);
			buf_put(b, ":", 1);
		}
		gen_hex(b, e->digest.p, e->digest.len);
		buf_put(b, " ", 1);
		buf_put(b, e->name.p, e->name.len);
		if (e->tmpl == IMA_TMPL_IMA_SIG) {
			buf_put(b, " ", 1);
			gen_hex(b, e->sig.p, e->sig.len);
		} else if (e->tmpl == IMA_TMPL_IMA_BUF) {
			buf_put(b, " ", 1);
			gen_hex(b, e->buf.p, e->buf.len);
		}
		buf_put(b, "\n", 1);
	}
}

#endif
