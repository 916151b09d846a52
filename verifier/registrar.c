/*
 * registrar.c — enrollment trust and credential crypto: the EK CA bundle
 * (an X509_STORE) and the allowlist of EK public hashes, EK certificate
 * chain and key checks, and TPM2_MakeCredential done in software (TCG
 * Part 1 §24 "Credential Protection", Annex B.10 / C.6 secret sharing for
 * RSA-OAEP and ECDH EKs) with our own KDFa and KDFe. Pure apart from
 * reading the bundle and allowlist files at load time.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/buf.h"
#include "common/encode.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/evidence/tpm2.h"
#include "common/evidence/tpm_public.h"
#include "common/xmalloc.h"
#include "verifier/registrar.h"

#define CERT_FILE_MAX		(4u * 1024 * 1024)
#define ALLOWLIST_MAX		(64u * 1024 * 1024)
#define EK_CHAIN_MAX		16
#define SHA256_HEX_LEN		64
#define CRED_SECRET_MAX		TPM2_MAX_DIGEST

struct ek_trust {
	X509_STORE	*store;
	size_t		 ncerts;
	char		**allow;	/* sorted lowercase hex SHA-256 */
	size_t		 nallow;
};

/* ---- loading the CA bundle and the allowlist ---- */

/* Add every certificate in path (PEM, possibly several, or one DER). */
static int
load_cert_file(X509_STORE *store, const char *path, size_t *count)
{
	uint8_t *d = NULL;
	size_t len, n = 0;
	BIO *bio = NULL;
	X509 *x = NULL;
	const unsigned char *p;
	int r;

	if (file_read_all(path, CERT_FILE_MAX, &d, &len) != 0)
		return ASSAY_ERR_CONFIG;	/* detail set by file_read_all */
	if (memmem(d, len, "-----BEGIN", 10) != NULL) {
		if ((bio = BIO_new_mem_buf(d, (int)len)) == NULL) {
			r = ASSAY_ERR_CRYPTO;
			goto out;
		}
		while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
			if (X509_STORE_add_cert(store, x) != 1) {
				r = assay_err_set(ASSAY_ERR_CONFIG,
				    "%s: cannot add certificate %zu", path, n + 1);
				goto out;
			}
			X509_free(x);
			x = NULL;
			n++;
		}
		ERR_clear_error();	/* the loop ends on "no start line" */
	} else {
		p = d;
		if ((x = d2i_X509(NULL, &p, (long)len)) == NULL ||
		    p != d + len) {
			r = assay_err_set(ASSAY_ERR_CONFIG,
			    "%s: not a PEM or DER certificate", path);
			goto out;
		}
		if (X509_STORE_add_cert(store, x) != 1) {
			r = assay_err_set(ASSAY_ERR_CONFIG,
			    "%s: cannot add certificate", path);
			goto out;
		}
		n++;
	}
	if (n == 0) {
		r = assay_err_set(ASSAY_ERR_CONFIG, "%s: no certificate", path);
		goto out;
	}
	*count += n;
	r = ASSAY_OK;
 out:
	X509_free(x);
	BIO_free(bio);
	free(d);
	ERR_clear_error();
	return r;
}

static int
cert_file_name(const char *name)
{
	static const char *const exts[] = { ".pem", ".crt", ".der", ".cer" };
	size_t n = strlen(name), e;

	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		e = strlen(exts[i]);
		if (n > e && strcasecmp(name + n - e, exts[i]) == 0)
			return 1;
	}
	return 0;
}

static int
load_bundle(X509_STORE *store, const char *dir, size_t *count)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	char *path;
	int r = ASSAY_OK;

	if (stat(dir, &st) != 0)
		return assay_err_set(ASSAY_ERR_CONFIG, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return load_cert_file(store, dir, count);
	if ((d = opendir(dir)) == NULL)
		return assay_err_set(ASSAY_ERR_CONFIG, "%s: %s", dir, strerror(errno));
	while (r == ASSAY_OK && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !cert_file_name(de->d_name))
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			r = load_cert_file(store, path, count);
		free(path);
	}
	closedir(d);
	if (r == ASSAY_OK && *count == 0)
		r = assay_err_set(ASSAY_ERR_CONFIG, "%s: no certificates", dir);
	return r;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
load_allowlist(struct ek_trust *t, const char *path)
{
	uint8_t *d = NULL;
	char *line, *next, *s, *e;
	size_t len, lineno = 0, cap = 0;
	int r;

	if (file_read_all(path, ALLOWLIST_MAX, &d, &len) != 0)
		return ASSAY_ERR_CONFIG;	/* detail set by file_read_all */
	if (memchr(d, '\0', len) != NULL) {
		r = assay_err_set(ASSAY_ERR_CONFIG, "%s: NUL byte", path);
		goto out;
	}
	for (line = (char *)d; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((e = strchr(line, '#')) != NULL)
			*e = '\0';
		for (s = line; isspace((unsigned char)*s); s++)
			;
		for (e = s + strlen(s); e > s && isspace((unsigned char)e[-1]); e--)
			;
		*e = '\0';
		if (*s == '\0')
			continue;
		if (e - s != SHA256_HEX_LEN) {
			r = assay_err_set(ASSAY_ERR_CONFIG,
			    "%s:%zu: not a hex SHA-256 digest", path, lineno);
			goto out;
		}
		for (e = s; *e != '\0'; e++) {
			if (!isxdigit((unsigned char)*e)) {
				r = assay_err_set(ASSAY_ERR_CONFIG,
				    "%s:%zu: not a hex SHA-256 digest", path, lineno);
				goto out;
			}
			*e = (char)tolower((unsigned char)*e);
		}
		if (t->nallow == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			t->allow = xreallocarray(t->allow, cap, sizeof(*t->allow));
		}
		t->allow[t->nallow++] = xstrdup(s);
	}
	if (t->nallow > 1)
		qsort(t->allow, t->nallow, sizeof(*t->allow), cmp_str);
	r = ASSAY_OK;
 out:
	free(d);
	return r;
}

int
ek_trust_load(const char *dir, const char *allowlist, struct ek_trust **out)
{
	struct ek_trust *t;
	int r;

	*out = NULL;
	if (dir == NULL && allowlist == NULL)
		return assay_err_set(ASSAY_ERR_CONFIG,
		    "neither an EK CA bundle nor an EK allowlist given");
	t = xcalloc(1, sizeof(*t));
	if ((t->store = X509_STORE_new()) == NULL) {
		r = assay_err_set(ASSAY_ERR_CRYPTO, "X509_STORE_new failed");
		goto out;
	}
	if (dir != NULL && (r = load_bundle(t->store, dir, &t->ncerts)) != 0)
		goto out;
	if (allowlist != NULL && (r = load_allowlist(t, allowlist)) != 0)
		goto out;
	*out = t;	/* caller owns it now */
	t = NULL;
	r = ASSAY_OK;
 out:
	ek_trust_free(t);
	return r;
}

void
ek_trust_free(struct ek_trust *t)
{
	if (t == NULL)
		return;
	X509_STORE_free(t->store);
	for (size_t i = 0; i < t->nallow; i++)
		free(t->allow[i]);
	free(t->allow);
	free(t);
}

/* ---- EK checks ---- */

char *
ek_pub_hash_hex(const uint8_t *tpm2b_public, size_t len)
{
	uint8_t md[TPM2_MAX_DIGEST];
	struct cur c, body;
	size_t mdlen;

	cur_init(&c, tpm2b_public, len);
	if (cur_tpm2b(&c, UINT16_MAX, &body) != 0 || cur_end(&c) != 0 ||
	    body.len == 0)
		return NULL;
	if (tpm2_hash(TPM2_ALG_SHA256, body.p, body.len, md, &mdlen) != 0)
		return NULL;
	return hex_encode(md, mdlen);
}

static int
ek_allowlisted(const struct ek_trust *t, const struct tpm2_public *ek)
{
	uint8_t md[TPM2_MAX_DIGEST];
	size_t mdlen;
	char *hex;
	int r;

	if (t->nallow == 0)
		return assay_err_set(ASSAY_ERR_PERM,
		    "no EK certificate and no EK allowlist configured");
	if (ek->tpmt_len == 0 ||
	    tpm2_hash(TPM2_ALG_SHA256, ek->tpmt, ek->tpmt_len, md, &mdlen) != 0)
		return assay_err_set(ASSAY_ERR_PERM, "EK public unavailable");
	hex = hex_encode(md, mdlen);
	if (bsearch(&hex, t->allow, t->nallow, sizeof(*t->allow), cmp_str) != NULL)
		r = ASSAY_OK;
	else
		r = assay_err_set(ASSAY_ERR_PERM,
		    "EK public (sha256 %s) is not in the EK allowlist", hex);
	free(hex);
	return r;
}

static X509 *
der_cert(const uint8_t *p, size_t len)
{
	const unsigned char *q = p;
	X509 *x;

	if (len == 0 || len > CERT_FILE_MAX)
		return NULL;
	if ((x = d2i_X509(NULL, &q, (long)len)) == NULL)
		return NULL;
	if (q != p + len) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/*
 * The TCG EK Credential Profile marks EK certificates with the extended
 * key usage tcg-kp-EKCertificate (2.23.133.8.1). Many vendors omit the
 * extension; when it is present it must name that purpose, so that a
 * certificate issued for something else is not taken as an EK's.
 */
static int
check_eku(X509 *leaf)
{
	EXTENDED_KEY_USAGE *eku;
	ASN1_OBJECT *tcg;
	int crit = 0, found = 0;

	eku = X509_get_ext_d2i(leaf, NID_ext_key_usage, &crit, NULL);
	if (eku == NULL)
		return crit == -1 ? ASSAY_OK : assay_err_set(ASSAY_ERR_PERM,
		    "EK certificate: malformed extended key usage");
	if ((tcg = OBJ_txt2obj("2.23.133.8.1", 1)) == NULL) {
		EXTENDED_KEY_USAGE_free(eku);
		return assay_err_set(ASSAY_ERR_CRYPTO, "OBJ_txt2obj failed");
	}
	for (int i = 0; i < sk_ASN1_OBJECT_num(eku); i++)
		if (OBJ_cmp(sk_ASN1_OBJECT_value(eku, i), tcg) == 0)
			found = 1;
	ASN1_OBJECT_free(tcg);
	EXTENDED_KEY_USAGE_free(eku);
	if (!found)
		return assay_err_set(ASSAY_ERR_PERM, "EK certificate: extended key "
		    "usage does not include tcg-kp-EKCertificate (2.23.133.8.1)");
	return ASSAY_OK;
}

int
ek_verify(const struct ek_trust *t, const struct tpm2_public *ek,
    const uint8_t *cert, size_t cert_len,
    const uint8_t *const *chain, const size_t *chain_len, size_t nchain)
{
	STACK_OF(X509) *untrusted = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509 *leaf = NULL, *x;
	int r, err;

	if (cert == NULL || cert_len == 0)
		return ek_allowlisted(t, ek);
	if ((leaf = der_cert(cert, cert_len)) == NULL) {
		r = assay_err_set(ASSAY_ERR_PERM, "EK certificate is not valid DER");
		goto out;
	}
	if (X509_check_ca(leaf) != 0) {
		r = assay_err_set(ASSAY_ERR_PERM, "EK certificate is a CA certificate");
		goto out;
	}
	if (t->ncerts == 0) {
		r = assay_err_set(ASSAY_ERR_PERM, "no EK CA bundle configured");
		goto out;
	}
	if (nchain > EK_CHAIN_MAX) {
		r = assay_err_set(ASSAY_ERR_PERM,
		    "EK certificate chain longer than %d", EK_CHAIN_MAX);
		goto out;
	}
	if ((untrusted = sk_X509_new_null()) == NULL) {
		r = assay_err_set(ASSAY_ERR_CRYPTO, "sk_X509_new_null failed");
		goto out;
	}
	for (size_t i = 0; i < nchain; i++) {
		if ((x = der_cert(chain[i], chain_len[i])) == NULL) {
			r = assay_err_set(ASSAY_ERR_PERM,
			    "EK chain certificate %zu is not valid DER", i);
			goto out;
		}
		if (!sk_X509_push(untrusted, x)) {
			X509_free(x);
			r = assay_err_set(ASSAY_ERR_CRYPTO, "sk_X509_push failed");
			goto out;
		}
	}
	/*
	 * Default parameters: validity dates and CA constraints of issuers
	 * are checked, no purpose (EK certificates carry the TCG EKU
	 * 2.23.133.8.1, not a TLS one). No PARTIAL_CHAIN: the chain must end
	 * at a self-signed root of the bundle.
	 */
	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(ctx, t->store, leaf, untrusted) != 1) {
		r = assay_err_set(ASSAY_ERR_CRYPTO, "X509_STORE_CTX_init failed");
		goto out;
	}
	if (X509_verify_cert(ctx) != 1) {
		err = X509_STORE_CTX_get_error(ctx);
		r = assay_err_set(ASSAY_ERR_PERM,
		    "EK certificate chain: %s (depth %d)",
		    X509_verify_cert_error_string(err),
		    X509_STORE_CTX_get_error_depth(ctx));
		goto out;
	}
	if ((r = check_eku(leaf)) != ASSAY_OK)
		goto out;
	if (tpm2_public_matches(ek, X509_get0_pubkey(leaf)) != ASSAY_OK) {
		r = assay_err_set(ASSAY_ERR_PERM,
		    "EK certificate key does not match EK public");
		goto out;
	}
	r = ASSAY_OK;
 out:
	X509_STORE_CTX_free(ctx);
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(leaf);
	ERR_clear_error();
	return r;
}

/* ---- MakeCredential ---- */

static void
put_u32be(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

struct part {
	const void	*p;
	size_t		 n;
};

static int
hmac_parts(const EVP_MD *md, const uint8_t *key, size_t keylen,
    const struct part *parts, size_t nparts, uint8_t *out, size_t *outlen)
{
	OSSL_PARAM params[2];
	EVP_MAC *mac = NULL;
	EVP_MAC_CTX *ctx = NULL;
	int r = ASSAY_ERR_CRYPTO;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)EVP_MD_get0_name(md), 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (ctx = EVP_MAC_CTX_new(mac)) == NULL ||
	    EVP_MAC_init(ctx, key, keylen, params) != 1)
		goto out;
	for (size_t i = 0; i < nparts; i++) {
		if (parts[i].n > 0 && EVP_MAC_update(ctx, parts[i].p, parts[i].n) != 1)
			goto out;
	}
	if (EVP_MAC_final(ctx, out, outlen, EVP_MAX_MD_SIZE) != 1)
		goto out;
	r = ASSAY_OK;
 out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return r;
}

/*
 * KDFa (Part 1 §11.4.10.2): SP 800-108 counter mode with HMAC,
 * K(i) = HMAC(key, [i]32 || Label || 00 || ContextU || ContextV || [bits]32).
 * Label is passed without its NUL, which is appended here.
 */
static int
kdfa(const EVP_MD *md, const uint8_t *key, size_t keylen, const char *label,
    const uint8_t *u, size_t ulen, const uint8_t *v, size_t vlen,
    size_t bits, uint8_t *out)
{
	uint8_t ctr[4], lbits[4], k[EVP_MAX_MD_SIZE];
	size_t want = bits / 8, done = 0, klen;
	uint32_t i;
	int r = ASSAY_OK;

	if (bits == 0 || bits % 8 != 0)
		return ASSAY_ERR_INVAL;
	put_u32be(lbits, (uint32_t)bits);
	for (i = 1; done < want; i++) {
		struct part parts[] = {
			{ ctr, 4 }, { label, strlen(label) + 1 },
			{ u, ulen }, { v, vlen }, { lbits, 4 },
		};

		put_u32be(ctr, i);
		if ((r = hmac_parts(md, key, keylen, parts,
		    sizeof(parts) / sizeof(parts[0]), k, &klen)) != 0)
			break;
		if (klen > want - done)
			klen = want - done;
		memcpy(out + done, k, klen);
		done += klen;
	}
	OPENSSL_cleanse(k, sizeof(k));
	return r;
}

/*
 * KDFe (Part 1 §11.4.10.3): SP 800-56A concatenation KDF with a hash,
 * K(i) = H([i]32 || Z || Use || 00 || PartyUInfo || PartyVInfo).
 */
static int
kdfe(const EVP_MD *md, const uint8_t *z, size_t zlen, const char *label,
    const uint8_t *u, size_t ulen, const uint8_t *v, size_t vlen,
    size_t bits, uint8_t *out)
{
	uint8_t ctr[4], k[EVP_MAX_MD_SIZE];
	size_t want = bits / 8, done = 0, klen;
	unsigned int hl;
	EVP_MD_CTX *ctx;
	uint32_t i;
	int r = ASSAY_OK;

	if (bits == 0 || bits % 8 != 0)
		return ASSAY_ERR_INVAL;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return ASSAY_ERR_CRYPTO;
	for (i = 1; done < want; i++) {
		put_u32be(ctr, i);
		if (EVP_DigestInit_ex(ctx, md, NULL) != 1 ||
		    EVP_DigestUpdate(ctx, ctr, 4) != 1 ||
		    EVP_DigestUpdate(ctx, z, zlen) != 1 ||
		    EVP_DigestUpdate(ctx, label, strlen(label) + 1) != 1 ||
		    EVP_DigestUpdate(ctx, u, ulen) != 1 ||
		    EVP_DigestUpdate(ctx, v, vlen) != 1 ||
		    EVP_DigestFinal_ex(ctx, k, &hl) != 1) {
			r = ASSAY_ERR_CRYPTO;
			break;
		}
		klen = hl;
		if (klen > want - done)
			klen = want - done;
		memcpy(out + done, k, klen);
		done += klen;
	}
	OPENSSL_cleanse(k, sizeof(k));
	EVP_MD_CTX_free(ctx);
	return r;
}

/* RSA EK: a random seed, RSA-OAEP(nameAlg) encrypted with label "IDENTITY\0". */
static int
seed_rsa(const struct tpm2_public *ek, const EVP_MD *md, uint8_t *seed,
    size_t seedlen, struct buf *enc)
{
	static const char label[] = "IDENTITY";
	EVP_PKEY_CTX *ctx = NULL;
	unsigned char *l = NULL;
	uint8_t *ct = NULL;
	size_t ctlen = 0;
	int r = ASSAY_ERR_CRYPTO;

	if (RAND_bytes(seed, (int)seedlen) != 1)
		goto out;
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, ek->pkey, NULL)) == NULL ||
	    EVP_PKEY_encrypt_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_oaep_md(ctx, md) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) <= 0)
		goto out;
	if ((l = OPENSSL_memdup(label, sizeof(label))) == NULL)
		goto out;
	if (EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, l, sizeof(label)) <= 0)
		goto out;
	l = NULL;	/* ctx owns it */
	if (EVP_PKEY_encrypt(ctx, NULL, &ctlen, seed, seedlen) <= 0)
		goto out;
	ct = xmalloc(ctlen);
	if (EVP_PKEY_encrypt(ctx, ct, &ctlen, seed, seedlen) <= 0)
		goto out;
	buf_put_tpm2b(enc, ct, ctlen);
	r = ASSAY_OK;
 out:
	OPENSSL_free(l);
	free(ct);
	EVP_PKEY_CTX_free(ctx);
	return r;
}

/*
 * ECC EK: ephemeral ECDH on the EK's curve. Z = x of the shared point,
 * seed = KDFe(nameAlg, Z, "IDENTITY", ephemeral x, EK x, digest bits);
 * the encrypted secret is the ephemeral point as TPMS_ECC_POINT.
 */
static int
seed_ecc(const struct tpm2_public *ek, const EVP_MD *md, uint8_t *seed,
    size_t seedlen, struct buf *enc)
{
	uint8_t pt[1 + 2 * TPM_PUBLIC_ECC_MAX], z[TPM_PUBLIC_ECC_MAX];
	EVP_PKEY *eph = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	const char *group;
	size_t clen, ptlen = 0, zlen = sizeof(z);
	int r = ASSAY_ERR_CRYPTO;

	if ((group = tpm2_curve_group(ek->curve, &clen)) == NULL)
		return assay_err_set(ASSAY_ERR_UNSUPPORTED,
		    "EK curve 0x%04x not supported", ek->curve);
	if ((eph = EVP_PKEY_Q_keygen(NULL, NULL, "EC", group)) == NULL)
		goto out;
	if (EVP_PKEY_get_octet_string_param(eph, OSSL_PKEY_PARAM_PUB_KEY,
	    pt, sizeof(pt), &ptlen) != 1 || ptlen != 1 + 2 * clen || pt[0] != 0x04)
		goto out;
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, eph, NULL)) == NULL ||
	    EVP_PKEY_derive_init(ctx) <= 0 ||
	    EVP_PKEY_derive_set_peer(ctx, ek->pkey) <= 0 ||
	    EVP_PKEY_derive(ctx, z, &zlen) <= 0 || zlen != clen)
		goto out;
	if ((r = kdfe(md, z, zlen, "IDENTITY", pt + 1, clen,
	    ek->ecc_x, ek->ecc_x_len, seedlen * 8, seed)) != 0)
		goto out;
	buf_put_u16be(enc, (uint16_t)(4 + 2 * clen));
	buf_put_tpm2b(enc, pt + 1, clen);
	buf_put_tpm2b(enc, pt + 1 + clen, clen);
	r = ASSAY_OK;
 out:
	OPENSSL_cleanse(z, sizeof(z));
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(eph);
	return r;
}

static int
aes_cfb_encrypt(const uint8_t *key, size_t bits, const uint8_t *in, size_t n,
    uint8_t *out)
{
	static const uint8_t iv[16];
	EVP_CIPHER *ciph = NULL;
	EVP_CIPHER_CTX *ctx = NULL;
	char cname[32];
	int outl, fin, r = ASSAY_ERR_CRYPTO;

	snprintf(cname, sizeof(cname), "AES-%zu-CFB", bits);
	if ((ciph = EVP_CIPHER_fetch(NULL, cname, NULL)) == NULL ||
	    (ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex2(ctx, ciph, key, iv, NULL) != 1 ||
	    EVP_EncryptUpdate(ctx, out, &outl, in, (int)n) != 1 ||
	    EVP_EncryptFinal_ex(ctx, out + outl, &fin) != 1 ||
	    (size_t)outl + (size_t)fin != n)
		goto out;
	r = ASSAY_OK;
 out:
	EVP_CIPHER_CTX_free(ctx);
	EVP_CIPHER_free(ciph);
	return r;
}

int
make_credential(const struct tpm2_public *ek, const uint8_t *name, size_t name_len,
    const uint8_t *secret, size_t secret_len,
    uint8_t **cred, size_t *cred_len, uint8_t **enc_secret, size_t *enc_secret_len)
{
	uint8_t seed[TPM2_MAX_DIGEST], symkey[32], hmackey[TPM2_MAX_DIGEST];
	uint8_t plain[2 + CRED_SECRET_MAX], enc[2 + CRED_SECRET_MAX];
	uint8_t hmac[EVP_MAX_MD_SIZE];
	const struct tpm2_hash *h;
	const EVP_MD *md;
	struct buf eb, cb;
	size_t dsize, hlen, plen;
	int r;

	*cred = *enc_secret = NULL;
	*cred_len = *enc_secret_len = 0;
	buf_init(&eb);
	buf_init(&cb);
	if (ek->pkey == NULL)
		return assay_err_set(ASSAY_ERR_INVAL, "EK has no public key");
	if ((h = tpm2_hash_by_alg(ek->name_alg)) == NULL ||
	    (md = tpm2_hash_md(ek->name_alg)) == NULL)
		return assay_err_set(ASSAY_ERR_UNSUPPORTED,
		    "EK nameAlg 0x%04x not supported", ek->name_alg);
	dsize = h->size;
	if (ek->sym_alg != TPM2_ALG_AES || (ek->sym_bits != 128 &&
	    ek->sym_bits != 192 && ek->sym_bits != 256))
		return assay_err_set(ASSAY_ERR_UNSUPPORTED,
		    "EK symmetric algorithm 0x%04x/%u is not AES",
		    ek->sym_alg, ek->sym_bits);
	/* TPM2_MakeCredential: credential no larger than the nameAlg digest. */
	if (secret_len == 0 || secret_len > dsize)
		return assay_err_set(ASSAY_ERR_INVAL,
		    "credential secret of %zu bytes (1..%zu allowed)",
		    secret_len, dsize);
	if (name_len < 2 || name_len > 2 + TPM2_MAX_DIGEST)
		return assay_err_set(ASSAY_ERR_INVAL,
		    "object name of %zu bytes", name_len);

	switch (ek->type) {
	case TPM2_ALG_RSA:
		r = seed_rsa(ek, md, seed, dsize, &eb);
		break;
	case TPM2_ALG_ECC:
		r = seed_ecc(ek, md, seed, dsize, &eb);
		break;
	default:
		r = assay_err_set(ASSAY_ERR_UNSUPPORTED,
		    "EK type 0x%04x", ek->type);
		break;
	}
	if (r != ASSAY_OK) {
		if (r == ASSAY_ERR_CRYPTO)
			assay_err_set(r, "credential seed protection failed");
		goto out;
	}

	/* encIdentity = CFB(KDFa(seed, "STORAGE", name), IV 0, TPM2B_DIGEST). */
	if ((r = kdfa(md, seed, dsize, "STORAGE", name, name_len, NULL, 0,
	    ek->sym_bits, symkey)) != 0)
		goto crypto;
	plain[0] = (uint8_t)(secret_len >> 8);
	plain[1] = (uint8_t)secret_len;
	memcpy(plain + 2, secret, secret_len);
	plen = 2 + secret_len;
	if ((r = aes_cfb_encrypt(symkey, ek->sym_bits, plain, plen, enc)) != 0)
		goto crypto;

	/* outerHMAC = HMAC(KDFa(seed, "INTEGRITY"), encIdentity || name). */
	if ((r = kdfa(md, seed, dsize, "INTEGRITY", NULL, 0, NULL, 0,
	    dsize * 8, hmackey)) != 0)
		goto crypto;
	{
		struct part parts[] = { { enc, plen }, { name, name_len } };

		if ((r = hmac_parts(md, hmackey, dsize, parts, 2, hmac, &hlen)) != 0)
			goto crypto;
	}
	buf_put_u16be(&cb, (uint16_t)(2 + hlen + plen));
	buf_put_tpm2b(&cb, hmac, hlen);
	buf_put(&cb, enc, plen);

	*cred = buf_steal(&cb, cred_len);
	*enc_secret = buf_steal(&eb, enc_secret_len);
	r = ASSAY_OK;
	goto out;
 crypto:
	r = assay_err_set(ASSAY_ERR_CRYPTO, "MakeCredential crypto failed");
 out:
	OPENSSL_cleanse(seed, sizeof(seed));
	OPENSSL_cleanse(symkey, sizeof(symkey));
	OPENSSL_cleanse(hmackey, sizeof(hmackey));
	OPENSSL_cleanse(plain, sizeof(plain));
	buf_free(&eb);
	buf_free(&cb);
	ERR_clear_error();
	return r;
}
