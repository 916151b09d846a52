/*
 * registrar_fixture.h — what the enrollment suites against a real
 * (software) TPM (test_registrar, test_ek_cert) share: one swtpm per
 * suite with an EK certificate from swtpm's local CA in a fresh temp dir,
 * RSA, ECC and P-384 EKs and AKs made with tpm2-tools, the CA directories
 * and bundles the trust tests load, shell and file helpers in that dir,
 * and the suite runner that sets it all up and tears it down.
 * Header-only (static inline) so that each suite stays a single
 * translation unit.
 */
#ifndef ASSAY_REGISTRAR_FIXTURE_H
#define ASSAY_REGISTRAR_FIXTURE_H

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
static inline int
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

static inline char *
tpath(const char *name)
{
	return xasprintf("%s/%s", tdir, name);
}

static inline int
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
static inline int
read_all(const char *name, uint8_t **p, size_t *n)
{
	char *path = tpath(name);
	int r = read_path(path, p, n);

	free(path);
	return r;
}

static inline void
write_all(const char *name, const void *p, size_t n)
{
	char *path = tpath(name);
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(p, 1, n, f), n);
	fclose(f);
	free(path);
}

static inline void
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

static inline struct ek_trust *
trust(const char *dir)
{
	struct ek_trust *t = NULL;
	char *path = tpath(dir);

	ck_assert_msg(ek_trust_load(path, NULL, &t) == ASSAY_OK, "%s: %s",
	    dir, assay_err_detail());
	free(path);
	return t;
}

/* ---- one swtpm for the whole suite ---- */

static inline int
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

static inline void
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


/* Run s on a fresh swtpm (setup_tpm), then remove it; 0 if all passed. */
static inline int
run_on_swtpm(Suite *s)
{
	SRunner *sr;
	int nf;

	tpm_ready = setup_tpm() == 0;
	if (!tpm_ready)
		fprintf(stderr, "swtpm setup failed, see %s/setup.log\n", tdir);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	teardown_tpm();
	return nf == 0 ? 0 : 1;
}

#endif
