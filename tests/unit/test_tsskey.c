/*
 * test_tsskey.c — the identity key file (agent/tsskey.c) against a private
 * swtpm: the TSS2 PRIVATE KEY PEM round trip of a key the agent made under
 * the SRK (checked with openssl asn1parse, and certified again by the AK
 * after it is read back), and its refusals of what is not one. The AK,
 * key and certification helpers are in certify_fixture.h.
 */
#include <sys/stat.h>

#include "tests/unit/certify_fixture.h"

#include "agent/tsskey.h"

/* ---- the key file ---------------------------------------------------------------- */

static char *
tpath(const char *name)
{
	return xasprintf("%s/%s", tdir, name);
}

START_TEST(tsskey_round_trips)
{
	struct tpm_cfg c = cfg_default();
	struct tpm_idkey k, back;
	struct stat st;
	char *path = tpath("id.key"), line[128], cmd[2048];
	FILE *f;

	key_create(&c, &k);
	ck_assert_int_eq(tsskey_write(path, &k), ASSAY_OK);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	fclose(f);
	ck_assert_str_eq(line, "-----BEGIN TSS2 PRIVATE KEY-----\n");
	ck_assert_int_eq(tsskey_read(path, &back), ASSAY_OK);
	ck_assert_uint_eq(back.parent, SRK);
	ck_assert_int_eq(back.empty_auth, 1);
	ck_assert_uint_eq(back.pub_len, k.pub_len);
	ck_assert_mem_eq(back.pub, k.pub, k.pub_len);
	ck_assert_uint_eq(back.priv_len, k.priv_len);
	ck_assert_mem_eq(back.priv, k.priv, k.priv_len);
	/* the ASN.1 other tools read: loadable-key OID, emptyAuth TRUE */
	snprintf(cmd, sizeof(cmd), "openssl asn1parse -in %s > %s/asn1.txt && "
	    "grep -q 'OBJECT *:2.23.133.10.1.3$' %s/asn1.txt && "
	    "grep -q 'BOOLEAN *:255$' %s/asn1.txt && "
	    "grep -q 'INTEGER *:81000001$' %s/asn1.txt", path, tdir, tdir, tdir,
	    tdir);
	ck_assert_msg(sh("%s", cmd) == 0, "asn1parse: see %s/asn1.txt", tdir);
	/* the key read back still certifies under the SRK */
	{
		struct cert ce;
		struct ak a;
		struct tpm2_public key;
		struct verdict v;

		ak_load(&c, &a);
		certify(&c, &back, &ce);
		ck_assert_int_eq(verify(&ce, a.pub.pkey, a.qn, a.qn_len,
		    ce.nonce, &key, &v), ASSAY_OK);
		tpm2_public_free(&key);
		cert_free(&ce);
		ak_free(&a);
	}
	/* overwritten in place, still 0600 */
	back.empty_auth = 0;
	back.parent = 0x81000002u;
	ck_assert_int_eq(tsskey_write(path, &back), ASSAY_OK);
	tpm_idkey_free(&back);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(tsskey_read(path, &back), ASSAY_OK);
	ck_assert_int_eq(back.empty_auth, 0);
	ck_assert_uint_eq(back.parent, 0x81000002u);
	ck_assert_int_eq(sh("openssl asn1parse -in %s | grep -q BOOLEAN", path),
	    256);
	tpm_idkey_free(&back);
	tpm_idkey_free(&k);
	free(path);
}
END_TEST

static void
write_text(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(p, 1, n, f), n);
	fclose(f);
}

/* The DER inside a TSS2 PRIVATE KEY file (caller frees). */
static uint8_t *
key_der(const char *path, long *len)
{
	BIO *b = BIO_new_file(path, "r");
	char *name = NULL, *hdr = NULL;
	unsigned char *data = NULL;
	uint8_t *out;

	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(PEM_read_bio(b, &name, &hdr, &data, len), 1);
	out = xmemdup(data, (size_t)*len);
	OPENSSL_free(name);
	OPENSSL_free(hdr);
	OPENSSL_free(data);
	BIO_free(b);
	return out;
}

static void
write_pem(const char *path, const char *name, const uint8_t *der, long len)
{
	BIO *b = BIO_new_file(path, "w");

	ck_assert_ptr_nonnull(b);
	ck_assert_int_gt(PEM_write_bio(b, name, "", der, len), 0);
	BIO_free(b);
}

static void
tsskey_refused(const char *path, int want)
{
	struct tpm_idkey k;

	ck_assert_int_eq(tsskey_read(path, &k), want);
	ck_assert_ptr_null(k.pub);
	ck_assert_ptr_null(k.priv);
}

START_TEST(tsskey_read_refuses_what_is_not_one)
{
	struct tpm_idkey k;
	char *good = tpath("good.key"), *bad = tpath("bad.key");
	char *absent = tpath("absent.key");
	uint8_t junk[512], pub[100], priv[120], *der, *oid;
	long len;

	memset(&k, 0, sizeof(k));
	memset(pub, 0x11, sizeof(pub));
	memset(priv, 0x22, sizeof(priv));
	k.pub = pub, k.pub_len = sizeof(pub);
	k.priv = priv, k.priv_len = sizeof(priv);
	k.parent = SRK;
	k.empty_auth = 1;
	ck_assert_int_eq(tsskey_write(good, &k), ASSAY_OK);
	tsskey_refused(absent, ASSAY_ERR_NOT_FOUND);
	/* a plain EC key */
	ck_assert_int_eq(sh("openssl ecparam -name prime256v1 -genkey -noout "
	    "-out %s 2>/dev/null", bad), 0);
	tsskey_refused(bad, ASSAY_ERR_FORMAT);
	/* garbage, empty */
	RAND_bytes(junk, sizeof(junk));
	write_text(bad, junk, sizeof(junk));
	tsskey_refused(bad, ASSAY_ERR_FORMAT);
	write_text(bad, "", 0);
	tsskey_refused(bad, ASSAY_ERR_FORMAT);
	/* the right PEM name around a truncated DER, or one with a byte more */
	der = key_der(good, &len);
	for (long cut = 1; cut < len; cut += 7) {
		write_pem(bad, TSSKEY_PEM_NAME, der, len - cut);
		tsskey_refused(bad, ASSAY_ERR_FORMAT);
	}
	{
		uint8_t *more = xmalloc((size_t)len + 1);

		memcpy(more, der, (size_t)len);
		more[len] = 0;
		write_pem(bad, TSSKEY_PEM_NAME, more, len + 1);
		tsskey_refused(bad, ASSAY_ERR_FORMAT);
		free(more);
	}
	/* the right DER under another PEM name */
	write_pem(bad, "EC PRIVATE KEY", der, len);
	tsskey_refused(bad, ASSAY_ERR_FORMAT);
	/* another key type: importable (2.23.133.10.1.4) */
	oid = memmem(der, (size_t)len, "\x67\x81\x05\x0a\x01\x03", 6);
	ck_assert_ptr_nonnull(oid);
	oid[5] = 0x04;
	write_pem(bad, TSSKEY_PEM_NAME, der, len);
	tsskey_refused(bad, ASSAY_ERR_FORMAT);
	oid[5] = 0x03;
	write_pem(bad, TSSKEY_PEM_NAME, der, len);
	ck_assert_int_eq(tsskey_read(bad, &k), ASSAY_OK);	/* control */
	ck_assert_uint_eq(k.pub_len, sizeof(pub));
	tpm_idkey_free(&k);
	free(der);
	free(good);
	free(bad);
	free(absent);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("tsskey");
	TCase *tc = tcase_create("swtpm");
	SRunner *sr;
	int nf;

	tcase_add_unchecked_fixture(tc, tpm_up, tpm_down);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, tsskey_round_trips);
	tcase_add_test(tc, tsskey_read_refuses_what_is_not_one);
	suite_add_tcase(s, tc);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
