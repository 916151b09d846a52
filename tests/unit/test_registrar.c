/*
 * test_registrar.c — enrollment checks against a real (software) TPM.
 * main() starts its own swtpm with an EK certificate from swtpm's local
 * CA in a fresh temp dir, and makes RSA and ECC EKs and AKs with
 * tpm2-tools. Then: our make_credential must be accepted by
 * tpm2_activatecredential; the swtpm EK certificate must chain to the
 * local CA and fail against others, expired or CA certificates, and
 * certificates of another TPM's EK; the allowlist must accept and reject.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <check.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/err.h"
#include "common/evidence/tpm2.h"
#include "common/evidence/tpm_public.h"
#include "common/xmalloc.h"
#include "verifier/registrar.h"

static char tdir[256];		/* our temp dir, shared by all tests */
static int tpm_ready;

/* Run a shell command in tdir with the TCTI set; returns exit status. */
static int
sh(const char *fmt, ...)
{
	char *cmd, *full;
	va_list ap;
	int r;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		abort();
	va_end(ap);
	full = xasprintf("cd '%s' && export TPM2TOOLS_TCTI=swtpm:path='%s'/tpm.sock "
	    "XDG_CONFIG_HOME='%s'/xdg && { %s ; }", tdir, tdir, tdir, cmd);
	r = system(full);
	free(cmd);
	free(full);
	return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

static char *
tpath(const char *name)
{
	return xasprintf("%s/%s", tdir, name);
}

static int
read_path(const char *path, uint8_t **p, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t tmp[8192];

	if (f == NULL)
		return -1;
	*n = fread(tmp, 1, sizeof(tmp), f);
	fclose(f);
	*p = xmemdup(tmp, *n);
	return 0;
}

/* A file in our temp dir. */
static int
read_all(const char *name, uint8_t **p, size_t *n)
{
	char *path = tpath(name);
	int r = read_path(path, p, n);

	free(path);
	return r;
}

static void
write_all(const char *name, const void *p, size_t n)
{
	char *path = tpath(name);
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(p, 1, n, f), n);
	fclose(f);
	free(path);
}

static void
parse_pub(const char *name, struct tpm2_public *pub)
{
	uint8_t *p;
	size_t n;

	ck_assert_msg(tpm_ready, "swtpm setup failed");
	ck_assert_int_eq(read_all(name, &p, &n), 0);
	ck_assert_msg(tpm2_public_parse(p, n, pub) == ASSAY_OK, "%s: %s",
	    name, assay_err_detail());
	free(p);
}

static void
data_pub(const char *name, struct tpm2_public *pub)
{
	const char *dir = getenv("ASSAY_TEST_DATA");
	char *path = xasprintf("%s/tpm_public/%s", dir ? dir : "tests/data", name);
	uint8_t *p;
	size_t n;

	ck_assert_msg(read_path(path, &p, &n) == 0, "cannot read %s", path);
	ck_assert_int_eq(tpm2_public_parse(p, n, pub), ASSAY_OK);
	free(p);
	free(path);
}

/* ---- MakeCredential interop ---- */

/* tpm2-tools credential file: magic, version, TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET. */
static void
write_cred_file(const char *name, const uint8_t *cred, size_t cred_len,
    const uint8_t *sec, size_t sec_len)
{
	static const uint8_t hdr[] = { 0xba, 0xdc, 0xc0, 0xde, 0, 0, 0, 1 };
	uint8_t *all = xmalloc(sizeof(hdr) + cred_len + sec_len);

	memcpy(all, hdr, sizeof(hdr));
	memcpy(all + sizeof(hdr), cred, cred_len);
	memcpy(all + sizeof(hdr) + cred_len, sec, sec_len);
	write_all(name, all, sizeof(hdr) + cred_len + sec_len);
	free(all);
}

/*
 * TCG EK Credential Profile policies for the SHA-384 "high range" EK
 * (swtpm's P-384 EK): PolicyB = PolicyOR(PolicyA = PolicySecret(endorsement),
 * PolicyC = PolicyAuthorizeNV(0x01c07f02)); the digests are the profile's.
 */
#define POLICY_A_SHA384 "8bbf2266537c171cb56e403c4dc1d4b64f432611dc386e6f" \
	"532050c3278c930e143e8bb1133824ccb431053871c6db53"
#define POLICY_C_SHA384 "d6032ce61f2fb3c240eb3cf6a33237ef2b6a16f4293c22b4" \
	"55e261cffd217ad5b4947c2d73e63005eed2dc2b3593d165"

/*
 * tpm2_activatecredential with a policy session satisfying the EK's
 * authPolicy: PolicySecret(endorsement), plus the PolicyOR for sha384 EKs.
 */
static int
activate(const char *ek, const char *ak, int sha384)
{
	return sh("timeout 10 tpm2_flushcontext -t >/dev/null 2>&1; "
	    "echo %s | xxd -r -p > pA; echo %s | xxd -r -p > pC; "
	    "timeout 10 tpm2_startauthsession --policy-session -g %s -S s.ctx && "
	    "timeout 10 tpm2_policysecret -S s.ctx -c e >/dev/null && "
	    "%s "
	    "timeout 30 tpm2_activatecredential -c %s -C %s -i cred -o out.secret "
	    "-P session:s.ctx >/dev/null 2>act.err; rc=$?; "
	    "timeout 10 tpm2_flushcontext s.ctx; "
	    "timeout 10 tpm2_flushcontext -t >/dev/null 2>&1; exit $rc",
	    POLICY_A_SHA384, POLICY_C_SHA384, sha384 ? "sha384" : "sha256",
	    sha384 ? "timeout 10 tpm2_policyor -S s.ctx -l sha384:pA,pC >/dev/null &&" : "",
	    ak, ek);
}

static void
credential_round_trip(const char *ekpub, const char *ekctx, const char *akpub,
    const char *akctx, int tamper_name)
{
	struct tpm2_public ek, ak;
	uint8_t secret[32], *cred, *sec, *out;
	size_t cred_len, sec_len, n;

	parse_pub(ekpub, &ek);
	parse_pub(akpub, &ak);
	for (size_t i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)(0xa5 ^ i);
	if (tamper_name)
		ak.name[ak.name_len - 1] ^= 1;
	ck_assert_int_eq(make_credential(&ek, ak.name, ak.name_len, secret,
	    sizeof(secret), &cred, &cred_len, &sec, &sec_len), ASSAY_OK);
	write_cred_file("cred", cred, cred_len, sec, sec_len);
	sh("rm -f out.secret");
	if (tamper_name) {
		ck_assert_int_ne(activate(ekctx, akctx, ek.name_alg ==
		    TPM2_ALG_SHA384), 0);
		/* Rejected by the outer HMAC, not by anything else. */
		ck_assert_int_eq(sh("grep -q 'integrity check failed' act.err"), 0);
	} else {
		ck_assert_int_eq(activate(ekctx, akctx, ek.name_alg ==
		    TPM2_ALG_SHA384), 0);
		ck_assert_int_eq(read_all("out.secret", &out, &n), 0);
		ck_assert_uint_eq(n, sizeof(secret));
		ck_assert_int_eq(memcmp(out, secret, n), 0);
		free(out);
	}
	free(cred);
	free(sec);
	tpm2_public_free(&ek);
	tpm2_public_free(&ak);
}

START_TEST(rsa_ek_credential_activates)
{
	credential_round_trip("ek.pub", "ek.ctx", "ak.pub", "ak.ctx", 0);
}
END_TEST

START_TEST(ecc_ek_credential_activates)
{
	credential_round_trip("ekecc.pub", "ekecc.ctx", "akecc.pub", "akecc.ctx", 0);
}
END_TEST

/* The swtpm P-384 EK: nameAlg sha384, AES-256. */
START_TEST(p384_ek_credential_activates)
{
	credential_round_trip("ek384.pub", "0x81010016", "ak384.pub", "ak384.ctx", 0);
}
END_TEST

START_TEST(credential_for_other_name_fails_activation)
{
	credential_round_trip("ek.pub", "ek.ctx", "ak.pub", "ak.ctx", 1);
}
END_TEST

START_TEST(credential_rejects_oversized_secret)
{
	struct tpm2_public ek, ak;
	uint8_t secret[33] = { 0 }, *cred, *sec;
	size_t cred_len, sec_len;

	parse_pub("ek.pub", &ek);
	parse_pub("ak.pub", &ak);
	ck_assert_int_eq(make_credential(&ek, ak.name, ak.name_len, secret,
	    sizeof(secret), &cred, &cred_len, &sec, &sec_len), ASSAY_ERR_INVAL);
	ck_assert_ptr_null(cred);
	tpm2_public_free(&ek);
	tpm2_public_free(&ak);
}
END_TEST

/* ---- EK certificate chain ---- */

static struct ek_trust *
trust(const char *dir)
{
	struct ek_trust *t = NULL;
	char *path = tpath(dir);

	ck_assert_msg(ek_trust_load(path, NULL, &t) == ASSAY_OK, "%s: %s",
	    dir, assay_err_detail());
	free(path);
	return t;
}

static int
verify_cert(const struct ek_trust *t, const char *ekpub, const char *certfile,
    const char *chainfile)
{
	struct tpm2_public ek;
	uint8_t *cert, *chain = NULL;
	const uint8_t *chains[1];
	size_t cert_len, chain_len = 0;
	int r;

	parse_pub(ekpub, &ek);
	ck_assert_int_eq(read_all(certfile, &cert, &cert_len), 0);
	if (chainfile != NULL)
		ck_assert_int_eq(read_all(chainfile, &chain, &chain_len), 0);
	chains[0] = chain;
	r = ek_verify(t, &ek, cert, cert_len, chains, &chain_len,
	    chainfile != NULL ? 1 : 0);
	free(cert);
	free(chain);
	tpm2_public_free(&ek);
	return r;
}

START_TEST(swtpm_ek_cert_verifies_against_localca)
{
	struct ek_trust *t = trust("ca");

	ck_assert_msg(verify_cert(t, "ek.pub", "tpm/ek-rsa2048.crt", NULL) ==
	    ASSAY_OK, "%s", assay_err_detail());
	ek_trust_free(t);
}
END_TEST

START_TEST(swtpm_p384_ek_cert_verifies_against_localca)
{
	struct ek_trust *t = trust("ca");

	ck_assert_msg(verify_cert(t, "ek384.pub", "tpm/ek-secp384r1.crt", NULL) ==
	    ASSAY_OK, "%s", assay_err_detail());
	ek_trust_free(t);
}
END_TEST

START_TEST(bundle_file_with_two_certs_verifies)
{
	struct ek_trust *t = trust("bundle.pem");

	ck_assert_int_eq(verify_cert(t, "ek.pub", "tpm/ek-rsa2048.crt", NULL), ASSAY_OK);
	ek_trust_free(t);
}
END_TEST

START_TEST(intermediate_from_agent_chain_verifies)
{
	struct ek_trust *t = trust("rootonly");

	ck_assert_int_eq(verify_cert(t, "ek.pub", "tpm/ek-rsa2048.crt", NULL),
	    ASSAY_ERR_PERM);
	ck_assert_msg(verify_cert(t, "ek.pub", "tpm/ek-rsa2048.crt",
	    "issuer.der") == ASSAY_OK, "%s", assay_err_detail());
	ek_trust_free(t);
}
END_TEST

START_TEST(intermediate_alone_is_not_a_trust_anchor)
{
	struct ek_trust *t = trust("interonly");

	ck_assert_int_eq(verify_cert(t, "ek.pub", "tpm/ek-rsa2048.crt", NULL),
	    ASSAY_ERR_PERM);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "EK certificate chain"));
	ek_trust_free(t);
}
END_TEST

START_TEST(unrelated_ca_rejects_swtpm_ek_cert)
{
	struct ek_trust *t = trust("testca");

	ck_assert_int_eq(verify_cert(t, "ek.pub", "tpm/ek-rsa2048.crt", NULL),
	    ASSAY_ERR_PERM);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(),
	    "unable to get local issuer certificate"));
	ek_trust_free(t);
}
END_TEST

START_TEST(other_tpm_ek_does_not_match_cert)
{
	struct ek_trust *t = trust("ca");
	struct tpm2_public other;
	uint8_t *cert;
	size_t len;

	data_pub("other-ek-rsa.pub", &other);
	ck_assert_int_eq(read_all("tpm/ek-rsa2048.crt", &cert, &len), 0);
	ck_assert_int_eq(ek_verify(t, &other, cert, len, NULL, NULL, 0),
	    ASSAY_ERR_PERM);
	ck_assert_str_eq(assay_err_detail(),
	    "EK certificate key does not match EK public");
	free(cert);
	tpm2_public_free(&other);
	ek_trust_free(t);
}
END_TEST

/* Certificates made here: an EC test CA and leaves holding the EK key. */
static const char *leaf_eku;	/* extended key usage of made leaves, if set */

static X509 *
make_cert(EVP_PKEY *subject_key, const char *cn, X509 *issuer,
    EVP_PKEY *issuer_key, int ca, long from, long to)
{
	X509 *x = X509_new();
	X509_NAME *nm = X509_NAME_new();
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	static long serial = 100;

	ck_assert_ptr_nonnull(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, nm);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : nm);
	X509_gmtime_adj(X509_getm_notBefore(x), from);
	X509_gmtime_adj(X509_getm_notAfter(x), to);
	X509_set_pubkey(x, subject_key);
	X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
	    ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_key_usage,
	    ca ? "critical,keyCertSign,cRLSign" : "critical,keyEncipherment");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (!ca && leaf_eku != NULL) {
		ext = X509V3_EXT_conf_nid(NULL, &v3, NID_ext_key_usage, leaf_eku);
		ck_assert_ptr_nonnull(ext);
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	ck_assert_int_gt(X509_sign(x, issuer_key, EVP_sha256()), 0);
	X509_NAME_free(nm);
	return x;
}

static void
write_der(const char *name, X509 *x)
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);

	ck_assert_int_gt(n, 0);
	write_all(name, der, (size_t)n);
	OPENSSL_free(der);
}

static int
verify_made_leaf(int ca, long from, long to)
{
	struct tpm2_public ek;
	struct ek_trust *t;
	EVP_PKEY *cakey;
	X509 *root, *leaf;
	int r;

	parse_pub("ek.pub", &ek);
	cakey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "prime256v1");
	root = make_cert(cakey, "assay test EK CA", NULL, cakey, 1, -86400, 86400);
	leaf = make_cert(ek.pkey, "made EK", root, cakey, ca, from, to);
	sh("rm -rf madeca && mkdir madeca");
	{
		char *p = tpath("madeca/root.pem");
		FILE *f = fopen(p, "w");

		ck_assert_ptr_nonnull(f);
		PEM_write_X509(f, root);
		fclose(f);
		free(p);
	}
	write_der("made-leaf.der", leaf);
	t = trust("madeca");
	r = verify_cert(t, "ek.pub", "made-leaf.der", NULL);
	ek_trust_free(t);
	X509_free(leaf);
	X509_free(root);
	EVP_PKEY_free(cakey);
	tpm2_public_free(&ek);
	return r;
}

START_TEST(made_leaf_within_dates_verifies)
{
	ck_assert_msg(verify_made_leaf(0, -3600, 3600) == ASSAY_OK, "%s",
	    assay_err_detail());
}
END_TEST

START_TEST(ek_cert_with_tcg_eku_verifies)
{
	leaf_eku = "2.23.133.8.1";
	ck_assert_msg(verify_made_leaf(0, -3600, 3600) == ASSAY_OK, "%s",
	    assay_err_detail());
	leaf_eku = NULL;
}
END_TEST

START_TEST(ek_cert_for_another_purpose_rejected)
{
	leaf_eku = "serverAuth";
	ck_assert_int_eq(verify_made_leaf(0, -3600, 3600), ASSAY_ERR_PERM);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "2.23.133.8.1"));
	leaf_eku = NULL;
}
END_TEST

START_TEST(expired_ek_cert_rejected)
{
	ck_assert_int_eq(verify_made_leaf(0, -7200, -3600), ASSAY_ERR_PERM);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "certificate has expired"));
}
END_TEST

START_TEST(not_yet_valid_ek_cert_rejected)
{
	ck_assert_int_eq(verify_made_leaf(0, 3600, 7200), ASSAY_ERR_PERM);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "not yet valid"));
}
END_TEST

START_TEST(ca_ek_cert_rejected)
{
	ck_assert_int_eq(verify_made_leaf(1, -3600, 3600), ASSAY_ERR_PERM);
	ck_assert_str_eq(assay_err_detail(), "EK certificate is a CA certificate");
}
END_TEST

START_TEST(garbage_ek_cert_rejected)
{
	struct ek_trust *t = trust("ca");
	struct tpm2_public ek;
	uint8_t junk[64];

	parse_pub("ek.pub", &ek);
	memset(junk, 0x30, sizeof(junk));
	ck_assert_int_eq(ek_verify(t, &ek, junk, sizeof(junk), NULL, NULL, 0),
	    ASSAY_ERR_PERM);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "not valid DER"));
	tpm2_public_free(&ek);
	ek_trust_free(t);
}
END_TEST

START_TEST(dir_with_private_key_pem_is_config_error)
{
	struct ek_trust *t = NULL;
	char *p = tpath("xdg/var/lib/swtpm-localca");

	ck_assert_int_eq(ek_trust_load(p, NULL, &t), ASSAY_ERR_CONFIG);
	ck_assert_ptr_null(t);
	free(p);
}
END_TEST

/* ---- allowlist ---- */

START_TEST(ek_hash_matches_sha256sum_of_body)
{
	uint8_t *p, *want;
	size_t n, wn;
	char *hex;

	ck_assert_int_eq(sh("tail -c +3 ek.pub | sha256sum | cut -c1-64 | "
	    "tr -d '\\n' > ek.sha256"), 0);
	ck_assert_int_eq(read_all("ek.pub", &p, &n), 0);
	ck_assert_int_eq(read_all("ek.sha256", &want, &wn), 0);
	hex = ek_pub_hash_hex(p, n);
	ck_assert_ptr_nonnull(hex);
	ck_assert_uint_eq(wn, 64);
	ck_assert_int_eq(memcmp(hex, want, 64), 0);
	ck_assert_ptr_null(ek_pub_hash_hex(p, n - 1));
	free(hex);
	free(want);
	free(p);
}
END_TEST

static int
verify_allowlist(const char *contents, const char *ekpub)
{
	struct ek_trust *t = NULL;
	struct tpm2_public ek;
	char *path = tpath("allow.txt");
	int r;

	write_all("allow.txt", contents, strlen(contents));
	ck_assert_int_eq(ek_trust_load(NULL, path, &t), ASSAY_OK);
	parse_pub(ekpub, &ek);
	r = ek_verify(t, &ek, NULL, 0, NULL, NULL, 0);
	tpm2_public_free(&ek);
	ek_trust_free(t);
	free(path);
	return r;
}

static char *
allow_for(const char *ekpub)
{
	uint8_t *p;
	size_t n;
	char *hex, *s;

	ck_assert_int_eq(read_all(ekpub, &p, &n), 0);
	hex = ek_pub_hash_hex(p, n);
	for (char *c = hex; *c; c++)	/* upper case must be accepted */
		*c = (char)(*c >= 'a' && *c <= 'f' ? *c - 32 : *c);
	s = xasprintf("# lab TPMs\n\n  %s  # rack 3\n%s\n", hex,
	    "0000000000000000000000000000000000000000000000000000000000000000");
	free(hex);
	free(p);
	return s;
}

START_TEST(allowlisted_ek_without_cert_accepted)
{
	char *s = allow_for("ek.pub");

	ck_assert_msg(verify_allowlist(s, "ek.pub") == ASSAY_OK, "%s",
	    assay_err_detail());
	free(s);
}
END_TEST

START_TEST(unlisted_ek_without_cert_rejected)
{
	char *s = allow_for("ek.pub");

	ck_assert_int_eq(verify_allowlist(s, "ekecc.pub"), ASSAY_ERR_PERM);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "not in the EK allowlist"));
	free(s);
}
END_TEST

START_TEST(no_cert_and_no_allowlist_rejected)
{
	struct ek_trust *t = trust("ca");
	struct tpm2_public ek;

	parse_pub("ek.pub", &ek);
	ck_assert_int_eq(ek_verify(t, &ek, NULL, 0, NULL, NULL, 0), ASSAY_ERR_PERM);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "no EK allowlist"));
	tpm2_public_free(&ek);
	ek_trust_free(t);
}
END_TEST

START_TEST(bad_allowlist_line_is_config_error)
{
	struct ek_trust *t = NULL;
	char *path = tpath("badallow.txt");

	write_all("badallow.txt", "# ok\nabcdef\n", 12);
	ck_assert_int_eq(ek_trust_load(NULL, path, &t), ASSAY_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), ":2:"));
	free(path);
}
END_TEST

/* ---- the fixture: one swtpm for the whole suite ---- */

static int
setup_tpm(void)
{
	char tmpl[] = "/tmp/assay-registrar.XXXXXX";

	if (mkdtemp(tmpl) == NULL)
		return -1;
	snprintf(tdir, sizeof(tdir), "%s", tmpl);
	return sh("set -e; exec >setup.log 2>&1; "
	    "timeout 30 swtpm_setup --create-config-files overwrite,root; mkdir tpm; "
	    "timeout 60 swtpm_setup --tpm2 --tpmstate \"$PWD/tpm\" "
	    "--config \"$PWD/xdg/swtpm_setup.conf\" --create-ek-cert "
	    "--pcr-banks sha256 --write-ek-cert-files \"$PWD/tpm\" --overwrite; "
	    "swtpm socket --tpm2 --tpmstate dir=\"$PWD/tpm\" "
	    "--server type=unixio,path=\"$PWD/tpm.sock\" "
	    "--ctrl type=unixio,path=\"$PWD/tpm.sock.ctrl\" "
	    "--flags not-need-init,startup-clear --pid file=\"$PWD/swtpm.pid\" -d; "
	    "F='timeout 10 tpm2_flushcontext -t'; "
	    "timeout 30 tpm2_createek -c ek.ctx -G rsa -u ek.pub; $F; "
	    "timeout 60 tpm2_createak -C ek.ctx -c ak.ctx -G ecc -g sha256 -s ecdsa "
	    "-u ak.pub -n ak.name; $F; "
	    "timeout 30 tpm2_createek -c ekecc.ctx -G ecc -u ekecc.pub; $F; "
	    "timeout 60 tpm2_createak -C ekecc.ctx -c akecc.ctx -G ecc -g sha256 "
	    "-s ecdsa -u akecc.pub -n akecc.name; $F; "
	    "timeout 10 tpm2_readpublic -c 0x81010016 -o ek384.pub; "
	    "timeout 60 tpm2_createak -C 0x81010016 -c ak384.ctx -G ecc -g sha256 "
	    "-s ecdsa -u ak384.pub -n ak384.name; $F; "
	    "L=xdg/var/lib/swtpm-localca; mkdir ca rootonly interonly; "
	    "cp $L/swtpm-localca-rootca-cert.pem $L/issuercert.pem ca/; "
	    "cp $L/swtpm-localca-rootca-cert.pem rootonly/; "
	    "cp $L/issuercert.pem interonly/; "
	    "cat $L/swtpm-localca-rootca-cert.pem $L/issuercert.pem > bundle.pem; "
	    "openssl x509 -in $L/issuercert.pem -outform der -out issuer.der; "
	    "mkdir testca; openssl req -x509 -newkey ec "
	    "-pkeyopt ec_paramgen_curve:P-256 -nodes -keyout testca/key -subj "
	    "/CN=unrelated -days 2 -out testca/ca.pem");
}

static void
teardown_tpm(void)
{
	uint8_t *p;
	size_t n;
	char pid[32];

	if (tdir[0] == '\0')
		return;
	if (read_all("swtpm.pid", &p, &n) == 0) {
		snprintf(pid, sizeof(pid), "%.*s", (int)(n < 31 ? n : 31), p);
		if (atoi(pid) > 1)
			kill(atoi(pid), SIGTERM);
		free(p);
	}
	if (getenv("ASSAY_KEEP_TMP") == NULL)
		sh("cd / && rm -rf '%s'", tdir);
}

int
main(void)
{
	Suite *s = suite_create("registrar");
	TCase *tc = tcase_create("swtpm");
	SRunner *sr;
	int nf;

	tpm_ready = setup_tpm() == 0;
	if (!tpm_ready)
		fprintf(stderr, "swtpm setup failed, see %s/setup.log\n", tdir);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, rsa_ek_credential_activates);
	tcase_add_test(tc, ecc_ek_credential_activates);
	tcase_add_test(tc, p384_ek_credential_activates);
	tcase_add_test(tc, credential_for_other_name_fails_activation);
	tcase_add_test(tc, credential_rejects_oversized_secret);
	tcase_add_test(tc, swtpm_ek_cert_verifies_against_localca);
	tcase_add_test(tc, swtpm_p384_ek_cert_verifies_against_localca);
	tcase_add_test(tc, bundle_file_with_two_certs_verifies);
	tcase_add_test(tc, intermediate_from_agent_chain_verifies);
	tcase_add_test(tc, intermediate_alone_is_not_a_trust_anchor);
	tcase_add_test(tc, unrelated_ca_rejects_swtpm_ek_cert);
	tcase_add_test(tc, other_tpm_ek_does_not_match_cert);
	tcase_add_test(tc, made_leaf_within_dates_verifies);
	tcase_add_test(tc, expired_ek_cert_rejected);
	tcase_add_test(tc, ek_cert_with_tcg_eku_verifies);
	tcase_add_test(tc, ek_cert_for_another_purpose_rejected);
	tcase_add_test(tc, not_yet_valid_ek_cert_rejected);
	tcase_add_test(tc, ca_ek_cert_rejected);
	tcase_add_test(tc, garbage_ek_cert_rejected);
	tcase_add_test(tc, dir_with_private_key_pem_is_config_error);
	tcase_add_test(tc, ek_hash_matches_sha256sum_of_body);
	tcase_add_test(tc, allowlisted_ek_without_cert_accepted);
	tcase_add_test(tc, unlisted_ek_without_cert_rejected);
	tcase_add_test(tc, no_cert_and_no_allowlist_rejected);
	tcase_add_test(tc, bad_allowlist_line_is_config_error);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	teardown_tpm();
	return nf == 0 ? 0 : 1;
}
