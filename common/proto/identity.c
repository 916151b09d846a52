/*
 * identity.c — the host identity document (identity.h): encoder, and a
 * strict parser that reads the PEM it carries with OpenSSL and writes it
 * again, so that what the agent puts on disk is certificates and nothing
 * else.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/err.h"
#include "common/log.h"
#include "common/proto/identity.h"
#include "common/xmalloc.h"

json_t *
ident_doc_encode(const struct ident_doc *d)
{
	if (d->spiffe_id == NULL || d->cert == NULL || d->chain == NULL)
		return NULL;
	return json_pack("{s:s, s:s, s:s, s:I, s:I}", "spiffe_id", d->spiffe_id,
	    "certificate", d->cert, "chain", d->chain,
	    "not_before", (json_int_t)d->not_before,
	    "not_after", (json_int_t)d->not_after);
}

/* An ASN1_TIME as unix seconds (OpenSSL 3.0 has no ASN1_TIME_to_posix). */
static int
asn1_unix(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

/* The text of a memory BIO (caller frees). */
static char *
bio_text(BIO *b)
{
	char *p;
	long n = BIO_get_mem_data(b, &p);
	char *s = xmalloc((size_t)n + 1);

	memcpy(s, p, (size_t)n);
	s[n] = '\0';
	return s;
}

/*
 * The certificates of a PEM text (1..max_certs of them, nothing else but
 * text between blocks), written again by OpenSSL into *norm so that what
 * is passed on is exactly the certificates; nb and na (when nb is not
 * NULL) get the first one's validity.
 */
static int
pem_certs(const char *pem, size_t max_certs, char **norm, int64_t *nb,
    int64_t *na)
{
	BIO *b = BIO_new_mem_buf(pem, (int)strlen(pem));
	BIO *w = BIO_new(BIO_s_mem());
	X509 *x = NULL;
	size_t n = 0;
	int r = ASSAY_ERR_INVAL;

	*norm = NULL;
	if (b == NULL || w == NULL)
		fatalx("BIO_new failed");
	if (strncmp(pem, "-----BEGIN CERTIFICATE-----", 27) != 0)
		goto out;
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (++n > max_certs || PEM_write_bio_X509(w, x) != 1)
			goto out;
		if (n == 1 && nb != NULL &&
		    (asn1_unix(X509_get0_notBefore(x), nb) != 0 ||
		    asn1_unix(X509_get0_notAfter(x), na) != 0))
			goto out;
		X509_free(x);
	}
	/* Stopped at the end of the text, not at a block that is not one. */
	if (n > 0 && BIO_eof(b)) {
		*norm = bio_text(w);
		r = ASSAY_OK;
	}
 out:
	ERR_clear_error();
	X509_free(x);
	BIO_free(b);
	BIO_free(w);
	return r;
}

static int
str_member(const json_t *j, const char *key, size_t max, const char **out)
{
	json_t *v = json_object_get(j, key);

	if (!json_is_string(v))
		return assay_err_set(ASSAY_ERR_FORMAT, "identity: '%s' missing "
		    "or not a string", key);
	*out = json_string_value(v);
	if (strlen(*out) == 0 || strlen(*out) > max)
		return assay_err_set(ASSAY_ERR_INVAL, "identity: '%s' empty or "
		    "longer than %zu bytes", key, max);
	return ASSAY_OK;
}

static int
time_member(const json_t *j, const char *key, int64_t *out)
{
	json_t *v = json_object_get(j, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return assay_err_set(ASSAY_ERR_FORMAT, "identity: '%s' missing "
		    "or not a time", key);
	*out = json_integer_value(v);
	return ASSAY_OK;
}

int
ident_doc_parse(const json_t *j, struct ident_doc *out)
{
	const char *id, *cert, *chain;
	char *ncert = NULL, *nchain = NULL;
	int64_t nb, na, cnb = 0, cna = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(j))
		return assay_err_set(ASSAY_ERR_FORMAT, "identity: not an object");
	if ((r = str_member(j, "spiffe_id", IDENT_SPIFFE_MAX, &id)) != 0 ||
	    (r = str_member(j, "certificate", IDENT_PEM_MAX, &cert)) != 0 ||
	    (r = str_member(j, "chain", IDENT_CHAIN_PEM_MAX, &chain)) != 0 ||
	    (r = time_member(j, "not_before", &nb)) != 0 ||
	    (r = time_member(j, "not_after", &na)) != 0)
		return r;
	if (strncmp(id, "spiffe://", 9) != 0)
		return assay_err_set(ASSAY_ERR_INVAL, "identity: spiffe_id is "
		    "not a spiffe:// URI");
	if (pem_certs(cert, 1, &ncert, &cnb, &cna) != 0 || cnb != nb ||
	    cna != na) {
		free(ncert);
		return assay_err_set(ASSAY_ERR_INVAL, "identity: 'certificate' "
		    "is not one certificate valid from not_before to not_after");
	}
	if (pem_certs(chain, IDENT_CHAIN_MAX, &nchain, NULL, NULL) != 0) {
		free(ncert);
		return assay_err_set(ASSAY_ERR_INVAL, "identity: 'chain' is not "
		    "1..%d certificates", IDENT_CHAIN_MAX);
	}
	out->spiffe_id = xstrdup(id);
	out->cert = ncert;
	out->chain = nchain;
	out->not_before = nb;
	out->not_after = na;
	return ASSAY_OK;
}

void
ident_doc_free(struct ident_doc *d)
{
	if (d == NULL)
		return;
	free(d->spiffe_id);
	free(d->cert);
	free(d->chain);
	memset(d, 0, sizeof(*d));
}

void
ident_doc_copy(struct ident_doc *dst, const struct ident_doc *src)
{
	*dst = *src;
	dst->spiffe_id = xstrdup_or_null(src->spiffe_id);
	dst->cert = xstrdup_or_null(src->cert);
	dst->chain = xstrdup_or_null(src->chain);
}
