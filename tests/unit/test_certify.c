/*
 * test_certify.c — the host identity key against a private swtpm: the
 * agent makes it under the SRK at 0x81000001 (agent/tpm_ident.c), the AK
 * certifies it over a nonce, and the verifier's certify_verify
 * (common/evidence/certify.c) accepts exactly that and names the one check
 * each forgery breaks; keys made by tpm2-tools with attributes the rule
 * refuses are certified by the real AK and still refused (identity.key).
 * The key file (agent/tsskey.c) is tested in test_tsskey.c; the helpers
 * both share are in certify_fixture.h.
 */
#include "tests/unit/certify_fixture.h"

/* ---- helpers --------------------------------------------------------------- */

/* A fresh key, certified with the AK: everything a round brings. */
struct round {
	struct tpm_cfg		 c;
	struct ak		 ak;
	struct tpm_idkey	 k;
	struct cert		 ce;
};

static void
round_up(struct round *rd)
{
	rd->c = cfg_default();
	ak_load(&rd->c, &rd->ak);
	key_create(&rd->c, &rd->k);
	certify(&rd->c, &rd->k, &rd->ce);
}

static void
round_free(struct round *rd)
{
	cert_free(&rd->ce);
	tpm_idkey_free(&rd->k);
	ak_free(&rd->ak);
}

/* Exactly one failure, fid; nothing handed out. */
static void
refused_exactly(const struct cert *ce, EVP_PKEY *ak, const uint8_t *qn,
    size_t qn_len, const uint8_t *nonce, enum failure_id fid)
{
	struct tpm2_public key;
	struct verdict v;
	int r = verify(ce, ak, qn, qn_len, nonce, &key, &v);

	ck_assert_int_eq(r, ASSAY_FAIL);
	ck_assert_msg(v.nfail == 1 && v.fail[0].fid == fid,
	    "want only %s, got %zu failures, first %s (%s)",
	    FAILURE_ID(fid), v.nfail, v.nfail ? v.fail[0].id : "-",
	    v.nfail ? v.fail[0].detail : "");
	ck_assert_ptr_null(key.pkey);
}

/* The round's own certification, as the verifier would check it. */
static void
round_refused(struct round *rd, enum failure_id fid)
{
	refused_exactly(&rd->ce, rd->ak.pub.pkey, rd->ak.qn, rd->ak.qn_len,
	    rd->ce.nonce, fid);
}

static int
persistent_present(uint32_t h)
{
	return sh(TOOL "tpm2_readpublic -T %s -c 0x%08x >/dev/null 2>&1",
	    tcti, h) == 0;
}

/* ---- the genuine key --------------------------------------------------------- */

START_TEST(create_makes_the_srk_once_then_reuses_it)
{
	struct tpm_cfg c = cfg_default();
	struct tpm_idkey a, b;
	char before[4096], after[4096], cmd[512];
	TPM2B_PUBLIC srk;
	uint8_t *p;
	size_t n;
	FILE *f;

	if (persistent_present(SRK))
		ck_assert_int_eq(sh(TOOL "tpm2_evictcontrol -T %s -C o -c "
		    "0x%08x >/dev/null 2>&1", tcti, SRK), 0);
	ck_assert(!persistent_present(SRK));
	key_create(&c, &a);
	ck_assert(persistent_present(SRK));
	/* the storage key: restricted decrypt ECC P-256 */
	ck_assert_int_eq(sh(TOOL "tpm2_readpublic -T %s -c 0x%08x "
	    "-o %s/srk.pub >/dev/null 2>&1", tcti, SRK, tdir), 0);
	snprintf(cmd, sizeof(cmd), "%s/srk.pub", tdir);
	ck_assert_ptr_nonnull(f = fopen(cmd, "rb"));
	p = xmalloc(1024);
	n = fread(p, 1, 1024, f);
	fclose(f);
	unmarshal_pub(p, n, &srk);
	free(p);
	ck_assert_uint_eq(srk.publicArea.type, TPM2_ALG_ECC);
	ck_assert_uint_eq(srk.publicArea.parameters.eccDetail.curveID,
	    TPM2_ECC_NIST_P256);
	ck_assert_uint_eq(srk.publicArea.objectAttributes &
	    (TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT | TPMA_OBJECT_SIGN_ENCRYPT),
	    TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT);
	snprintf(cmd, sizeof(cmd), TOOL "tpm2_readpublic -T %s -c 0x%08x "
	    "2>/dev/null | grep '^name:'", tcti, SRK);
	capture(before, sizeof(before), cmd);
	ck_assert_uint_gt(strlen(before), 5);
	/* the second time: the same storage key, a new identity key */
	key_create(&c, &b);
	capture(after, sizeof(after), cmd);
	ck_assert_str_eq(before, after);
	ck_assert(a.pub_len != b.pub_len || memcmp(a.pub, b.pub, a.pub_len) != 0);
	tpm_idkey_free(&a);
	tpm_idkey_free(&b);
}
END_TEST

START_TEST(create_refuses_a_parent_that_is_not_a_storage_key)
{
	struct tpm_cfg c = cfg_default();
	struct tpm_identity id = load(&c);
	uint8_t *pub, *priv;
	size_t pl, vl;

	/* the AK is persistent, restricted and signs */
	ck_assert_int_eq(tpm_ident_create(&c, TPM_AK_HANDLE_DEFAULT, &pub, &pl,
	    &priv, &vl), ASSAY_ERR_CONFIG);
	ck_assert_ptr_null(pub);
	ck_assert_ptr_null(priv);
	tpm_identity_free(&id);
}
END_TEST

START_TEST(certified_key_verifies)
{
	struct round rd;
	struct tpm2_public key;
	struct verdict v;
	TPM2B_PUBLIC tp;
	TPMS_ATTEST at;
	EVP_PKEY *indep;
	size_t off = 0;
	int r;

	round_up(&rd);
	r = verify(&rd.ce, rd.ak.pub.pkey, rd.ak.qn, rd.ak.qn_len, rd.ce.nonce,
	    &key, &v);
	ck_assert_msg(r == ASSAY_OK, "%zu failures, first %s: %s", v.nfail,
	    v.nfail ? v.fail[0].id : "-", v.nfail ? v.fail[0].detail : "");
	ck_assert_uint_eq(v.nfail, 0);
	ck_assert_uint_eq(key.type, TPM2_ALG_ECC);
	ck_assert_uint_eq(key.curve, TPM2_ECC_NIST_P256);
	ck_assert_uint_eq(key.name_alg, TPM2_ALG_SHA256);
	ck_assert_uint_eq(key.attributes, IDKEY_ATTRS);
	ck_assert_uint_eq(key.scheme, TPM2_ALG_NULL);
	ck_assert_uint_eq(key.policy_len, 0);
	/* the key the verifier gets is the TPM's, read independently */
	unmarshal_pub(rd.k.pub, rd.k.pub_len, &tp);
	ck_assert_uint_eq(tp.publicArea.objectAttributes, IDKEY_ATTRS);
	indep = pub_pkey(rd.k.pub, rd.k.pub_len);
	ck_assert_int_eq(EVP_PKEY_eq(key.pkey, indep), 1);
	EVP_PKEY_free(indep);
	/* TPM2_Certify: over our nonce, signed by the AK, naming the key */
	indep = pub_pkey(rd.ak.id.ak_pub, rd.ak.id.ak_pub_len);
	ck_assert(sig_ok(indep, rd.ce.attest, rd.ce.attest_len, rd.ce.sig,
	    rd.ce.sig_len));
	memset(&at, 0, sizeof(at));
	ck_assert_int_eq(Tss2_MU_TPMS_ATTEST_Unmarshal(rd.ce.attest,
	    rd.ce.attest_len, &off, &at), 0);
	ck_assert_uint_eq(at.type, TPM2_ST_ATTEST_CERTIFY);
	ck_assert_uint_eq(at.extraData.size, 32);
	ck_assert_mem_eq(at.extraData.buffer, rd.ce.nonce, 32);
	ck_assert_uint_eq(at.attested.certify.name.size, key.name_len);
	ck_assert_mem_eq(at.attested.certify.name.name, key.name, key.name_len);
	ck_assert_uint_eq(at.qualifiedSigner.size, rd.ak.qn_len);
	ck_assert_mem_eq(at.qualifiedSigner.name, rd.ak.qn, rd.ak.qn_len);
	EVP_PKEY_free(indep);
	tpm2_public_free(&key);
	/* without an expected Qualified Name the signer is not judged */
	r = verify(&rd.ce, rd.ak.pub.pkey, NULL, 0, rd.ce.nonce, &key, &v);
	ck_assert_int_eq(r, ASSAY_OK);
	tpm2_public_free(&key);
	round_free(&rd);
}
END_TEST

START_TEST(key_certified_twice_verifies_each_time)
{
	struct round rd;
	struct cert again;
	struct tpm2_public key;
	struct verdict v;

	round_up(&rd);
	certify(&rd.c, &rd.k, &again);
	ck_assert_int_eq(verify(&again, rd.ak.pub.pkey, rd.ak.qn, rd.ak.qn_len,
	    again.nonce, &key, &v), ASSAY_OK);
	tpm2_public_free(&key);
	/* the earlier nonce does not fit the later certification */
	refused_exactly(&again, rd.ak.pub.pkey, rd.ak.qn, rd.ak.qn_len,
	    rd.ce.nonce, FID_IDENTITY_NONCE);
	cert_free(&again);
	round_free(&rd);
}
END_TEST

START_TEST(create_and_certify_leave_no_transient_handles)
{
	struct round rd;
	struct cert again;
	char out[1024], cmd[2048];

	round_up(&rd);
	certify(&rd.c, &rd.k, &again);
	snprintf(cmd, sizeof(cmd), TOOL "tpm2_getcap -T %s handles-transient; "
	    TOOL "tpm2_getcap -T %s handles-loaded-session; "
	    TOOL "tpm2_getcap -T %s handles-saved-session", tcti, tcti, tcti);
	capture(out, sizeof(out), cmd);
	ck_assert_str_eq(out, "");
	cert_free(&again);
	round_free(&rd);
}
END_TEST

/* ---- forgeries ------------------------------------------------------------------ */

START_TEST(other_nonce_is_identity_nonce)
{
	struct round rd;
	uint8_t other[32];

	round_up(&rd);
	memcpy(other, rd.ce.nonce, sizeof(other));
	other[31] ^= 1;
	refused_exactly(&rd.ce, rd.ak.pub.pkey, rd.ak.qn, rd.ak.qn_len, other,
	    FID_IDENTITY_NONCE);
	round_free(&rd);
}
END_TEST

START_TEST(certification_of_a_sent_with_b_is_identity_name)
{
	struct round rd;
	struct tpm_idkey b;

	round_up(&rd);
	key_create(&rd.c, &b);
	free(rd.ce.pub);
	rd.ce.pub = xmemdup(b.pub, b.pub_len);
	rd.ce.pub_len = b.pub_len;
	round_refused(&rd, FID_IDENTITY_NAME);
	tpm_idkey_free(&b);
	round_free(&rd);
}
END_TEST

START_TEST(flipped_attest_byte_is_identity_signature)
{
	struct round rd;
	/* magic, type, qualifiedSigner, extraData: then clockInfo.clock */
	size_t clock_at = 4 + 2 + 2 + 34 + 2 + 32;

	round_up(&rd);
	ck_assert_uint_gt(rd.ce.attest_len, clock_at + 8);
	rd.ce.attest[clock_at + 3] ^= 0x01;
	round_refused(&rd, FID_IDENTITY_SIGNATURE);
	round_free(&rd);
}
END_TEST

START_TEST(flipped_signature_byte_is_identity_signature)
{
	struct round rd;

	round_up(&rd);
	rd.ce.sig[rd.ce.sig_len - 1] ^= 0x01;	/* last byte of s */
	round_refused(&rd, FID_IDENTITY_SIGNATURE);
	round_free(&rd);
}
END_TEST

START_TEST(verified_with_another_ak_is_identity_signature)
{
	struct round rd;
	struct tpm2_public other;
	EVP_PKEY *soft = EVP_EC_gen("P-256");

	round_up(&rd);
	ck_assert_ptr_nonnull(soft);
	refused_exactly(&rd.ce, soft, rd.ak.qn, rd.ak.qn_len, rd.ce.nonce,
	    FID_IDENTITY_SIGNATURE);
	/* the identity key itself as the signer: another TPM key */
	ck_assert_int_eq(tpm2_public_parse(rd.k.pub, rd.k.pub_len, &other),
	    ASSAY_OK);
	refused_exactly(&rd.ce, other.pkey, rd.ak.qn, rd.ak.qn_len, rd.ce.nonce,
	    FID_IDENTITY_SIGNATURE);
	tpm2_public_free(&other);
	EVP_PKEY_free(soft);
	round_free(&rd);
}
END_TEST

START_TEST(qualified_name_of_another_is_identity_signer)
{
	struct round rd;
	uint8_t qn[TPM2_NAME_MAX];
	size_t qn_len;

	round_up(&rd);
	/* the AK under another EK (here: the AK as its own parent) */
	ck_assert_int_eq(tpm2_ak_qualified_name(&rd.ak.pub, &rd.ak.pub, qn,
	    &qn_len), ASSAY_OK);
	refused_exactly(&rd.ce, rd.ak.pub.pkey, qn, qn_len, rd.ce.nonce,
	    FID_IDENTITY_SIGNER);
	/* the AK's plain Name instead of its Qualified Name */
	refused_exactly(&rd.ce, rd.ak.pub.pkey, rd.ak.pub.name,
	    rd.ak.pub.name_len, rd.ce.nonce, FID_IDENTITY_SIGNER);
	round_free(&rd);
}
END_TEST

START_TEST(the_aks_quote_as_certification_is_identity_format)
{
	struct round rd;
	struct pcr_selection sel = sel_boot();
	struct pcr_values pcrs;
	uint8_t *attest, *sig;
	size_t al, sl;

	round_up(&rd);
	ck_assert_int_eq(tpm_quote(&rd.c, rd.ce.nonce, sizeof(rd.ce.nonce), &sel,
	    &attest, &al, &sig, &sl, &pcrs), ASSAY_OK);
	free(rd.ce.attest);
	free(rd.ce.sig);
	rd.ce.attest = attest;
	rd.ce.attest_len = al;
	rd.ce.sig = sig;
	rd.ce.sig_len = sl;
	/* signed by the AK, over the nonce, by the right signer: but a quote */
	round_refused(&rd, FID_IDENTITY_FORMAT);
	round_free(&rd);
}
END_TEST

/* Every strict prefix and one byte more of *field: identity.format only. */
static void
cut_and_grow(struct round *rd, uint8_t **field, size_t *len)
{
	uint8_t *orig = *field, *big;
	size_t n = *len;

	for (size_t i = 0; i < n; i++) {
		*field = xmemdup(orig, i ? i : 1);
		*len = i;
		round_refused(rd, FID_IDENTITY_FORMAT);
		free(*field);
	}
	big = xmalloc(n + 1);
	memcpy(big, orig, n);
	big[n] = 0;
	*field = big;
	*len = n + 1;
	round_refused(rd, FID_IDENTITY_FORMAT);
	free(big);
	big = xcalloc(1, 4096);
	memcpy(big, orig, n);
	*field = big;
	*len = 4096;
	round_refused(rd, FID_IDENTITY_FORMAT);
	free(big);
	*field = orig;
	*len = n;
}

START_TEST(truncated_or_oversized_parts_are_identity_format)
{
	struct round rd;

	round_up(&rd);
	cut_and_grow(&rd, &rd.ce.attest, &rd.ce.attest_len);
	cut_and_grow(&rd, &rd.ce.sig, &rd.ce.sig_len);
	cut_and_grow(&rd, &rd.ce.pub, &rd.ce.pub_len);
	/* and untouched, it still verifies: the cuts were the cause */
	{
		struct tpm2_public key;
		struct verdict v;

		ck_assert_int_eq(verify(&rd.ce, rd.ak.pub.pkey, rd.ak.qn,
		    rd.ak.qn_len, rd.ce.nonce, &key, &v), ASSAY_OK);
		tpm2_public_free(&key);
	}
	round_free(&rd);
}
END_TEST

START_TEST(garbage_parts_are_identity_format)
{
	struct round rd;
	uint8_t junk[300], *keep;
	size_t keep_len;
	struct tpm2_public key;
	struct verdict v;

	round_up(&rd);
	memset(junk, 0xff, sizeof(junk));
	keep = rd.ce.attest, keep_len = rd.ce.attest_len;
	rd.ce.attest = junk, rd.ce.attest_len = sizeof(junk);
	round_refused(&rd, FID_IDENTITY_FORMAT);
	rd.ce.attest = keep, rd.ce.attest_len = keep_len;
	keep = rd.ce.sig, keep_len = rd.ce.sig_len;
	rd.ce.sig = junk, rd.ce.sig_len = 70;
	round_refused(&rd, FID_IDENTITY_FORMAT);
	rd.ce.sig = keep, rd.ce.sig_len = keep_len;
	keep = rd.ce.pub, keep_len = rd.ce.pub_len;
	rd.ce.pub = junk, rd.ce.pub_len = 90;
	round_refused(&rd, FID_IDENTITY_FORMAT);
	rd.ce.pub = keep, rd.ce.pub_len = keep_len;
	/* random bytes in each part: refused, and never a crash */
	for (int i = 0; i < 300; i++) {
		uint8_t **f = i % 3 == 0 ? &rd.ce.attest : i % 3 == 1 ?
		    &rd.ce.sig : &rd.ce.pub;
		size_t *fl = i % 3 == 0 ? &rd.ce.attest_len : i % 3 == 1 ?
		    &rd.ce.sig_len : &rd.ce.pub_len;

		keep = *f, keep_len = *fl;
		RAND_bytes(junk, sizeof(junk));
		*f = junk;
		*fl = (size_t)(junk[0] % 200) + 1;
		ck_assert_int_eq(verify(&rd.ce, rd.ak.pub.pkey, rd.ak.qn,
		    rd.ak.qn_len, rd.ce.nonce, &key, &v), ASSAY_FAIL);
		ck_assert(verdict_has(&v, "identity.format"));
		*f = keep, *fl = keep_len;
	}
	round_free(&rd);
}
END_TEST

/* ---- keys the rule refuses, made and certified in the same TPM ---------------- */

static uint8_t *
read_file(const char *path, size_t *len)
{
	uint8_t *p = xmalloc(4096);
	FILE *f = fopen(path, "rb");

	ck_assert_msg(f != NULL, "%s", path);
	*len = fread(p, 1, 4096, f);
	fclose(f);
	ck_assert_uint_gt(*len, 0);
	return p;
}

/*
 * A key made by tpm2-tools (cmd: "tpm2_create ..." or "tpm2_import ...",
 * writing %1$s/x.pub and %1$s/x.priv), certified by the AK with the
 * agent's code, verified: the result and the failures into v.
 */
static int
tool_key_verify(const char *args, uint32_t *attrs, struct verdict *v)
{
	struct round rd;
	struct tpm_idkey k;
	struct tpm2_public key;
	char path[512];
	int r;

	rd.c = cfg_default();
	ak_load(&rd.c, &rd.ak);
	key_create(&rd.c, &k);		/* the SRK exists now */
	tpm_idkey_free(&k);
	ck_assert_msg(sh(TOOL "%s -T %s -C 0x%08x -u %s/x.pub -r %s/x.priv "
	    ">%s/tool.log 2>&1", args, tcti, SRK, tdir, tdir, tdir) == 0,
	    "%s failed (see %s/tool.log)", args, tdir);
	memset(&k, 0, sizeof(k));
	snprintf(path, sizeof(path), "%s/x.pub", tdir);
	k.pub = read_file(path, &k.pub_len);
	snprintf(path, sizeof(path), "%s/x.priv", tdir);
	k.priv = read_file(path, &k.priv_len);
	k.parent = SRK;
	k.empty_auth = 1;
	certify(&rd.c, &k, &rd.ce);
	r = verify(&rd.ce, rd.ak.pub.pkey, rd.ak.qn, rd.ak.qn_len, rd.ce.nonce,
	    &key, v);
	{
		TPM2B_PUBLIC tp;

		unmarshal_pub(k.pub, k.pub_len, &tp);
		*attrs = tp.publicArea.objectAttributes;
	}
	tpm2_public_free(&key);
	tpm_idkey_free(&k);
	cert_free(&rd.ce);
	ak_free(&rd.ak);
	return r;
}

static void
tool_key_refused(const char *args, uint32_t must_have, uint32_t must_lack)
{
	struct verdict v;
	uint32_t attrs;
	int r = tool_key_verify(args, &attrs, &v);

	/* the key is what the case says it is */
	ck_assert_msg((attrs & must_have) == must_have &&
	    (attrs & must_lack) == 0, "%s: attributes 0x%08x", args, attrs);
	ck_assert_int_eq(r, ASSAY_FAIL);
	ck_assert_msg(v.nfail == 1 && v.fail[0].fid == FID_IDENTITY_KEY,
	    "%s: want only identity.key, got %zu failures, first %s (%s)",
	    args, v.nfail, v.nfail ? v.fail[0].id : "-",
	    v.nfail ? v.fail[0].detail : "");
}

#define TOOL_GOOD	"fixedtpm|fixedparent|sensitivedataorigin|userwithauth|noda"

START_TEST(tool_key_with_the_right_attributes_verifies)
{
	struct verdict v;
	uint32_t attrs;
	int r;

	/* control: the tool path itself is sound */
	r = tool_key_verify("tpm2_create -G ecc256 -a '" TOOL_GOOD "|sign'",
	    &attrs, &v);
	ck_assert_msg(r == ASSAY_OK, "%zu failures, first %s: %s", v.nfail,
	    v.nfail ? v.fail[0].id : "-", v.nfail ? v.fail[0].detail : "");
	r = tool_key_verify("tpm2_create -G rsa2048 -a '" TOOL_GOOD "|sign'",
	    &attrs, &v);
	ck_assert_int_eq(r, ASSAY_OK);
}
END_TEST

START_TEST(duplicable_key_is_identity_key)
{
	tool_key_refused("tpm2_create -G ecc256 -a "
	    "'sensitivedataorigin|userwithauth|noda|sign'",
	    TPMA_OBJECT_SIGN_ENCRYPT,
	    TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT);
}
END_TEST

START_TEST(restricted_signing_key_is_identity_key)
{
	tool_key_refused("tpm2_create -G ecc256:ecdsa-sha256:null -a '" TOOL_GOOD
	    "|restricted|sign'", TPMA_OBJECT_RESTRICTED | IDKEY_ATTRS, 0);
}
END_TEST

START_TEST(decrypt_key_is_identity_key)
{
	tool_key_refused("tpm2_create -G ecc256 -a '" TOOL_GOOD "|decrypt'",
	    TPMA_OBJECT_DECRYPT, TPMA_OBJECT_SIGN_ENCRYPT);
	tool_key_refused("tpm2_create -G ecc256 -a '" TOOL_GOOD
	    "|decrypt|sign'", TPMA_OBJECT_DECRYPT | TPMA_OBJECT_SIGN_ENCRYPT, 0);
}
END_TEST

START_TEST(imported_key_is_identity_key)
{
	char cmd[1024];

	ck_assert_int_eq(sh("openssl ecparam -name prime256v1 -genkey -noout "
	    "-out %s/ext.pem 2>/dev/null", tdir), 0);
	snprintf(cmd, sizeof(cmd), "tpm2_import -G ecc -i %s/ext.pem "
	    "-a 'userwithauth|noda|sign'", tdir);
	tool_key_refused(cmd, TPMA_OBJECT_SIGN_ENCRYPT,
	    TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_FIXEDTPM);
}
END_TEST

START_TEST(sha1_named_key_is_identity_key)
{
	tool_key_refused("tpm2_create -g sha1 -G ecc256 -a '" TOOL_GOOD
	    "|sign'", IDKEY_ATTRS, 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("certify");
	TCase *tc = tcase_create("swtpm");
	SRunner *sr;
	int nf;

	tcase_add_unchecked_fixture(tc, tpm_up, tpm_down);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, create_makes_the_srk_once_then_reuses_it);
	tcase_add_test(tc, create_refuses_a_parent_that_is_not_a_storage_key);
	tcase_add_test(tc, certified_key_verifies);
	tcase_add_test(tc, key_certified_twice_verifies_each_time);
	tcase_add_test(tc, create_and_certify_leave_no_transient_handles);
	tcase_add_test(tc, other_nonce_is_identity_nonce);
	tcase_add_test(tc, certification_of_a_sent_with_b_is_identity_name);
	tcase_add_test(tc, flipped_attest_byte_is_identity_signature);
	tcase_add_test(tc, flipped_signature_byte_is_identity_signature);
	tcase_add_test(tc, verified_with_another_ak_is_identity_signature);
	tcase_add_test(tc, qualified_name_of_another_is_identity_signer);
	tcase_add_test(tc, the_aks_quote_as_certification_is_identity_format);
	tcase_add_test(tc, truncated_or_oversized_parts_are_identity_format);
	tcase_add_test(tc, garbage_parts_are_identity_format);
	tcase_add_test(tc, tool_key_with_the_right_attributes_verifies);
	tcase_add_test(tc, duplicable_key_is_identity_key);
	tcase_add_test(tc, restricted_signing_key_is_identity_key);
	tcase_add_test(tc, decrypt_key_is_identity_key);
	tcase_add_test(tc, imported_key_is_identity_key);
	tcase_add_test(tc, sha1_named_key_is_identity_key);
	suite_add_tcase(s, tc);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
