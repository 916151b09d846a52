/*
 * tsskey.c — the TSS2 PRIVATE KEY file (tsskey.h), encoded and decoded
 * with OpenSSL's ASN.1 templates:
 *
 *   TPMKey ::= SEQUENCE {
 *     type       OBJECT IDENTIFIER,	-- 2.23.133.10.1.3 (loadable key)
 *     emptyAuth  [0] EXPLICIT BOOLEAN OPTIONAL,
 *     parent     INTEGER,		-- a persistent handle here
 *     pubkey     OCTET STRING,		-- TPM2B_PUBLIC
 *     privkey    OCTET STRING }	-- TPM2B_PRIVATE
 *
 * The agent's keys have an empty authValue: emptyAuth TRUE (else the
 * provider asks for a password).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/asn1t.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include "agent/tsskey.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/xmalloc.h"

typedef struct {
	ASN1_OBJECT		*type;
	ASN1_BOOLEAN		 empty_auth;
	ASN1_INTEGER		*parent;
	ASN1_OCTET_STRING	*pubkey;
	ASN1_OCTET_STRING	*privkey;
} TSSKEY;

ASN1_SEQUENCE(TSSKEY) = {
	ASN1_SIMPLE(TSSKEY, type, ASN1_OBJECT),
	ASN1_EXP_OPT(TSSKEY, empty_auth, ASN1_FBOOLEAN, 0),
	ASN1_SIMPLE(TSSKEY, parent, ASN1_INTEGER),
	ASN1_SIMPLE(TSSKEY, pubkey, ASN1_OCTET_STRING),
	ASN1_SIMPLE(TSSKEY, privkey, ASN1_OCTET_STRING),
} static_ASN1_SEQUENCE_END(TSSKEY)

IMPLEMENT_STATIC_ASN1_ALLOC_FUNCTIONS(TSSKEY)
IMPLEMENT_STATIC_ASN1_ENCODE_FUNCTIONS(TSSKEY)

/* The DER of k (caller frees with OPENSSL_free); length, or -1. */
static int
tsskey_der(const struct tpm_idkey *k, unsigned char **der)
{
	TSSKEY *t = TSSKEY_new();
	int n = -1;

	*der = NULL;
	if (t == NULL)
		fatalx("TSSKEY_new failed");
	t->type = OBJ_txt2obj(TSSKEY_OID, 1);
	t->empty_auth = k->empty_auth ? 0xff : 0;
	if (t->type != NULL &&
	    ASN1_INTEGER_set_uint64(t->parent, k->parent) == 1 &&
	    ASN1_OCTET_STRING_set(t->pubkey, k->pub, (int)k->pub_len) == 1 &&
	    ASN1_OCTET_STRING_set(t->privkey, k->priv, (int)k->priv_len) == 1)
		n = i2d_TSSKEY(t, der);
	TSSKEY_free(t);
	return n;
}

int
tsskey_write(const char *path, const struct tpm_idkey *k)
{
	unsigned char *der = NULL;
	BIO *b = BIO_new(BIO_s_mem());
	char *pem;
	long n;
	int len, r = ASSAY_ERR_CRYPTO;

	if (b == NULL)
		fatalx("BIO_new failed");
	if ((len = tsskey_der(k, &der)) > 0 &&
	    PEM_write_bio(b, TSSKEY_PEM_NAME, "", der, len) > 0) {
		n = BIO_get_mem_data(b, &pem);
		r = file_write_atomic(path, (const uint8_t *)pem, (size_t)n, 0600);
	} else
		assay_err_set(r, "%s: cannot encode the key", path);
	ERR_clear_error();
	OPENSSL_free(der);
	BIO_free(b);
	return r;
}

/* The fields of a decoded key into k. */
static int
tsskey_take(const TSSKEY *t, struct tpm_idkey *k)
{
	uint64_t parent;
	char oid[64];

	if (OBJ_obj2txt(oid, sizeof(oid), t->type, 1) <= 0 ||
	    strcmp(oid, TSSKEY_OID) != 0)
		return assay_err_set(ASSAY_ERR_FORMAT, "not a loadable TPM key "
		    "(type %s)", oid);
	if (ASN1_INTEGER_get_uint64(&parent, t->parent) != 1 ||
	    parent > UINT32_MAX)
		return assay_err_set(ASSAY_ERR_FORMAT, "bad parent handle");
	k->parent = (uint32_t)parent;
	k->empty_auth = t->empty_auth != 0;
	k->pub = xmemdup(ASN1_STRING_get0_data(t->pubkey),
	    (size_t)ASN1_STRING_length(t->pubkey));
	k->pub_len = (size_t)ASN1_STRING_length(t->pubkey);
	k->priv = xmemdup(ASN1_STRING_get0_data(t->privkey),
	    (size_t)ASN1_STRING_length(t->privkey));
	k->priv_len = (size_t)ASN1_STRING_length(t->privkey);
	return ASSAY_OK;
}

int
tsskey_read(const char *path, struct tpm_idkey *k)
{
	uint8_t *text = NULL;
	size_t len;
	BIO *b = NULL;
	char *name = NULL, *hdr = NULL;
	unsigned char *data = NULL;
	const unsigned char *p;
	long dlen;
	TSSKEY *t = NULL;
	int r;

	memset(k, 0, sizeof(*k));
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return assay_err_set(ASSAY_ERR_NOT_FOUND, "%s: no such file", path);
	if ((r = file_read_all(path, TSSKEY_FILE_MAX, &text, &len)) != 0)
		return r;
	r = assay_err_set(ASSAY_ERR_FORMAT, "%s: not a TSS2 PRIVATE KEY PEM",
	    path);
	if ((b = BIO_new_mem_buf(text, (int)len)) == NULL)
		fatalx("BIO_new_mem_buf failed");
	if (PEM_read_bio(b, &name, &hdr, &data, &dlen) != 1 ||
	    strcmp(name, TSSKEY_PEM_NAME) != 0)
		goto out;
	p = data;
	if ((t = d2i_TSSKEY(NULL, &p, dlen)) == NULL || p != data + dlen)
		goto out;
	if ((r = tsskey_take(t, k)) != 0)
		assay_err_set(r, "%s: %s", path, assay_err_detail());
 out:
	ERR_clear_error();
	TSSKEY_free(t);
	OPENSSL_free(name);
	OPENSSL_free(hdr);
	OPENSSL_free(data);
	BIO_free(b);
	free(text);
	return r;
}
