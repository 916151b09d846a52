/*
 * quote_cmd.c — `assayctl quote verify`: check one quote made by
 * tpm2_quote (TPMS_ATTEST, TPMT_SIGNATURE, tpm2-tools serialized PCR dump)
 * against an AK (PEM or TPM2B_PUBLIC) and a nonce, with quote_verify().
 * Prints "OK: ..." and exits 0, or one "FAIL: <id>: <detail>" line per
 * failed check and exits 1; usage and I/O errors exit 2.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h>

#include "common/encode.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/xmalloc.h"
#include "common/evidence/attest.h"
#include "common/evidence/pcr.h"
#include "common/evidence/quote.h"
#include "common/evidence/tpm2.h"
#include "common/evidence/tpm_public.h"
#include "common/evidence/verdict.h"
#include "tools/quote_cmd.h"

#define QUOTE_FILE_MAX	(64u * 1024)

static void
usage(void)
{
	fprintf(stderr,
	    "usage: assayctl quote verify --ak AK.pem|AK.pub [--ak-tpm2b]\n"
	    "           [--ek-pub EK.pub] --nonce HEX --message Q.msg\n"
	    "           --signature Q.sig --pcrs Q.pcrs [--pcr-select SEL]\n");
}

/* Load the AK: PEM public key, or TPM2B_PUBLIC (forced or auto-detected). */
static int
load_ak(const char *path, int force_tpm2b, EVP_PKEY **key, uint8_t *name,
    size_t *name_len)
{
	struct tpm2_public pub;
	uint8_t *d = NULL;
	size_t n;
	BIO *bio;
	int r;

	*key = NULL;
	*name_len = 0;
	if ((r = file_read_all(path, QUOTE_FILE_MAX, &d, &n)) != 0)
		return r;
	if (!force_tpm2b && n >= 10 && memcmp(d, "-----BEGIN", 10) == 0) {
		bio = BIO_new_mem_buf(d, (int)n);
		*key = bio == NULL ? NULL : PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
		BIO_free(bio);
		if (*key == NULL)
			r = assay_err_set(ASSAY_ERR_FORMAT,
			    "%s: not a PEM public key", path);
		goto out;
	}
	memset(&pub, 0, sizeof(pub));
	if ((r = tpm2_public_parse(d, n, &pub)) != 0) {
		r = assay_err_set(r, "%s: TPM2B_PUBLIC: %s", path,
		    assay_err_detail());
		goto out;
	}
	*key = pub.pkey;	/* ours now */
	pub.pkey = NULL;
	memcpy(name, pub.name, pub.name_len);
	*name_len = pub.name_len;
	tpm2_public_free(&pub);
 out:
	free(d);
	return r;
}

/* QN(AK) for an AK whose parent is the primary EK (endorsement hierarchy). */
static int
ak_qualified_name(const char *ek_path, const uint8_t *ak_name, size_t ak_len,
    uint8_t *qn, size_t *qn_len)
{
	struct tpm2_public ek;
	uint8_t hier[4], ekqn[TPM2_NAME_MAX];
	uint8_t *d = NULL;
	size_t n, ekqn_len;
	int r;

	memset(&ek, 0, sizeof(ek));
	if ((r = file_read_all(ek_path, QUOTE_FILE_MAX, &d, &n)) != 0)
		return r;
	if ((r = tpm2_public_parse(d, n, &ek)) != 0) {
		r = assay_err_set(r, "%s: TPM2B_PUBLIC: %s", ek_path,
		    assay_err_detail());
		goto out;
	}
	tpm2_hierarchy_qn(TPM2_RH_ENDORSEMENT, hier);
	if ((r = tpm2_qualified_name(hier, sizeof(hier), ek.name, ek.name_len,
	    ekqn, &ekqn_len)) != 0)
		goto out;
	r = tpm2_qualified_name(ekqn, ekqn_len, ak_name, ak_len, qn, qn_len);
 out:
	tpm2_public_free(&ek);
	free(d);
	return r;
}

static const char *
sig_scheme_name(const uint8_t *sig, size_t n)
{
	struct tpm2_signature s;

	if (tpm2_signature_parse(sig, n, &s) != 0)
		return "?";
	switch (s.sig_alg) {
	case TPM2_ALG_ECDSA:	return "ecdsa";
	case TPM2_ALG_RSAPSS:	return "rsapss";
	default:		return "rsassa";
	}
}

int
cmd_quote(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ak", required_argument, NULL, 'a' },
		{ "ak-tpm2b", no_argument, NULL, 'T' },
		{ "ek-pub", required_argument, NULL, 'e' },
		{ "nonce", required_argument, NULL, 'n' },
		{ "message", required_argument, NULL, 'm' },
		{ "signature", required_argument, NULL, 's' },
		{ "pcrs", required_argument, NULL, 'p' },
		{ "pcr-select", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *akf = NULL, *ekf = NULL, *nonce_hex = NULL, *msgf = NULL;
	const char *sigf = NULL, *pcrsf = NULL, *self = NULL;
	struct pcr_selection quoted, want;
	struct pcr_values *vals = NULL;
	struct quote_expect ex;
	struct quote_evidence ev;
	struct quote_result res;
	struct verdict v;
	EVP_PKEY *ak = NULL;
	uint8_t *msg = NULL, *sig = NULL, *pcrs = NULL;
	uint8_t nonce[TPM2_NAME_MAX], name[TPM2_NAME_MAX], qn[TPM2_NAME_MAX];
	size_t msg_len = 0, sig_len = 0, pcrs_len = 0, nonce_len = 0;
	size_t name_len = 0, qn_len = 0, i;
	char *seltxt = NULL;
	int ch, tpm2b = 0, r, ret = 2;

	if (argc < 1 || strcmp(argv[0], "verify") != 0) {
		usage();
		return 2;
	}
	optind = 0;	/* glibc: full re-initialisation */
	while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (ch) {
		case 'a': akf = optarg; break;
		case 'T': tpm2b = 1; break;
		case 'e': ekf = optarg; break;
		case 'n': nonce_hex = optarg; break;
		case 'm': msgf = optarg; break;
		case 's': sigf = optarg; break;
		case 'p': pcrsf = optarg; break;
		case 'l': self = optarg; break;
		default:
			usage();
			return 2;
		}
	}
	if (optind != argc || akf == NULL || nonce_hex == NULL ||
	    msgf == NULL || sigf == NULL || pcrsf == NULL) {
		usage();
		return 2;
	}
	vals = xcalloc(1, sizeof(*vals));	/* ~12 KiB: keep off the stack */
	if ((r = load_ak(akf, tpm2b, &ak, name, &name_len)) != 0 ||
	    (r = file_read_all(msgf, QUOTE_FILE_MAX, &msg, &msg_len)) != 0 ||
	    (r = file_read_all(sigf, QUOTE_FILE_MAX, &sig, &sig_len)) != 0 ||
	    (r = file_read_all(pcrsf, QUOTE_FILE_MAX, &pcrs, &pcrs_len)) != 0)
		goto err;
	if ((r = hex_decode(nonce_hex, nonce, sizeof(nonce), &nonce_len)) != 0) {
		assay_err_set(r, "--nonce: not hex of at most %zu bytes",
		    sizeof(nonce));
		goto err;
	}
	if ((r = pcr_tpm2tools_parse(pcrs, pcrs_len, &quoted, vals)) != 0) {
		assay_err_set(r, "%s: %s", pcrsf, assay_err_detail());
		goto err;
	}
	want = quoted;
	if (self != NULL && (r = pcr_selection_parse(self, &want)) != 0) {
		assay_err_set(r, "--pcr-select: %s", assay_err_detail());
		goto err;
	}
	if (ekf != NULL) {
		if (name_len == 0) {
			r = assay_err_set(ASSAY_ERR_INVAL,
			    "--ek-pub needs the AK as TPM2B_PUBLIC");
			goto err;
		}
		if ((r = ak_qualified_name(ekf, name, name_len, qn, &qn_len)) != 0)
			goto err;
	}

	memset(&ex, 0, sizeof(ex));
	ex.ak = ak;
	ex.ak_name = qn_len > 0 ? qn : NULL;
	ex.ak_name_len = qn_len;
	ex.nonce = nonce;
	ex.nonce_len = nonce_len;
	ex.sel = &want;
	memset(&ev, 0, sizeof(ev));
	ev.attest = msg;
	ev.attest_len = msg_len;
	ev.sig = sig;
	ev.sig_len = sig_len;
	ev.pcrs = vals;
	verdict_init(&v);
	if (quote_verify(&ev, &ex, &res, &v) == ASSAY_OK) {
		seltxt = pcr_selection_format(&want);
		printf("OK: quote verified (%s, %s, resetCount %" PRIu32
		    ", restartCount %" PRIu32 ", clock %" PRIu64 "%s)\n",
		    sig_scheme_name(sig, sig_len), seltxt,
		    res.clock.reset_count, res.clock.restart_count,
		    res.clock.clock, qn_len > 0 ? ", signer checked" : "");
		ret = 0;
	} else {
		for (i = 0; i < v.nfail; i++)
			printf("FAIL: %s: %s\n", v.fail[i].id, v.fail[i].detail);
		ret = 1;
	}
	goto out;
 err:
	fprintf(stderr, "assayctl quote verify: %s: %s\n", assay_strerror(r),
	    assay_err_detail());
	ret = 2;
 out:
	free(seltxt);
	free(vals);
	free(msg);
	free(sig);
	free(pcrs);
	EVP_PKEY_free(ak);
	return ret;
}
