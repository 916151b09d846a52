/*
 * quote_cmd.c — `assayctl quote verify`: check one quote made by
 * tpm2_quote (TPMS_ATTEST, TPMT_SIGNATURE, tpm2-tools serialized PCR dump)
 * against an AK (PEM or TPM2B_PUBLIC) and a nonce, with quote_verify().
 * Prints "OK: ..." and exits 0, or one "FAIL: <id>: <detail>" line per
 * failed check and exits 1; usage and I/O errors exit 2.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h>

#include "common/encode.h"
#include "common/err.h"
#include "common/xmalloc.h"
#include "common/evidence/attest.h"
#include "common/evidence/pcr.h"
#include "common/evidence/quote.h"
#include "common/evidence/tpm2.h"
#include "common/evidence/tpm_public.h"
#include "common/evidence/verdict.h"
#include "tools/cmd.h"
#include "tools/quote_cmd.h"

#define QUOTE_FILE_MAX	(64u * 1024)

/* What quote verify checks, loaded from its files and options. */
struct quote_in {
	EVP_PKEY	*ak;
	uint8_t		 name[TPM2_NAME_MAX], qn[TPM2_NAME_MAX];
	uint8_t		 nonce[TPM2_NAME_MAX];
	size_t		 name_len, qn_len, nonce_len;
	uint8_t		*msg, *sig, *pcrs;
	size_t		 msg_len, sig_len, pcrs_len;
	struct pcr_selection quoted, want;
	struct pcr_values *vals;
};

/* Print the pending error; the exit status of a usage/IO failure. */
static int
qfail(int r)
{
	fprintf(stderr, "assayctl quote verify: %s: %s\n", assay_strerror(r),
	    assay_err_detail());
	return 2;
}

/* The AK: PEM public key, or TPM2B_PUBLIC (forced or auto-detected). */
static int
load_ak(const char *path, int force_tpm2b, struct quote_in *in)
{
	struct tpm2_public pub;
	uint8_t *d = NULL;
	size_t n;
	BIO *bio;
	int r;

	if (cmd_load(path, QUOTE_FILE_MAX, &d, &n) != 0)
		return 2;
	if (!force_tpm2b && n >= 10 && memcmp(d, "-----BEGIN", 10) == 0) {
		bio = BIO_new_mem_buf(d, (int)n);
		in->ak = bio == NULL ? NULL :
		    PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
		BIO_free(bio);
		r = in->ak != NULL ? 0 : qfail(assay_err_set(ASSAY_ERR_FORMAT,
		    "%s: not a PEM public key", path));
		goto out;
	}
	memset(&pub, 0, sizeof(pub));
	if ((r = tpm2_public_parse(d, n, &pub)) != 0) {
		r = qfail(assay_err_set(r, "%s: TPM2B_PUBLIC: %s", path,
		    assay_err_detail()));
		goto out;
	}
	in->ak = pub.pkey;	/* ours now */
	pub.pkey = NULL;
	memcpy(in->name, pub.name, pub.name_len);
	in->name_len = pub.name_len;
	tpm2_public_free(&pub);
 out:
	free(d);
	return r;
}

/* QN(AK) for an AK whose parent is the primary EK (endorsement hierarchy). */
static int
ak_qualified_name(const char *ek_path, struct quote_in *in)
{
	struct tpm2_public ek;
	uint8_t hier[4], ekqn[TPM2_NAME_MAX];
	uint8_t *d = NULL;
	size_t n, ekqn_len;
	int r;

	if (in->name_len == 0)
		return qfail(assay_err_set(ASSAY_ERR_INVAL,
		    "--ek-pub needs the AK as TPM2B_PUBLIC"));
	if (cmd_load(ek_path, QUOTE_FILE_MAX, &d, &n) != 0)
		return 2;
	memset(&ek, 0, sizeof(ek));
	if ((r = tpm2_public_parse(d, n, &ek)) != 0) {
		r = assay_err_set(r, "%s: TPM2B_PUBLIC: %s", ek_path,
		    assay_err_detail());
		goto out;
	}
	tpm2_hierarchy_qn(TPM2_RH_ENDORSEMENT, hier);
	if ((r = tpm2_qualified_name(hier, sizeof(hier), ek.name, ek.name_len,
	    ekqn, &ekqn_len)) != 0)
		goto out;
	r = tpm2_qualified_name(ekqn, ekqn_len, in->name, in->name_len, in->qn,
	    &in->qn_len);
 out:
	tpm2_public_free(&ek);
	free(d);
	return r != 0 ? qfail(r) : 0;
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

/* Load every file and option of the row into in. 0, or 2 after a message. */
static int
quote_load(const struct cmd_args *a, struct quote_in *in)
{
	const char *pcrsf = cmd_str(a, OPT_PCRS), *sel = cmd_str(a, OPT_PCR_SELECT);
	int r;

	if (load_ak(cmd_str(a, OPT_AK), cmd_flag(a, OPT_AK_TPM2B), in) != 0 ||
	    cmd_load(cmd_str(a, OPT_MESSAGE), QUOTE_FILE_MAX, &in->msg,
	    &in->msg_len) != 0 ||
	    cmd_load(cmd_str(a, OPT_SIGNATURE), QUOTE_FILE_MAX, &in->sig,
	    &in->sig_len) != 0 ||
	    cmd_load(pcrsf, QUOTE_FILE_MAX, &in->pcrs, &in->pcrs_len) != 0)
		return 2;
	if ((r = hex_decode(cmd_str(a, OPT_NONCE), in->nonce, sizeof(in->nonce),
	    &in->nonce_len)) != 0)
		return qfail(assay_err_set(r, "--nonce: not hex of at most %zu "
		    "bytes", sizeof(in->nonce)));
	if ((r = pcr_tpm2tools_parse(in->pcrs, in->pcrs_len, &in->quoted,
	    in->vals)) != 0)
		return qfail(assay_err_set(r, "%s: %s", pcrsf, assay_err_detail()));
	in->want = in->quoted;
	if (sel != NULL && (r = pcr_selection_parse(sel, &in->want)) != 0)
		return qfail(assay_err_set(r, "--pcr-select: %s",
		    assay_err_detail()));
	if (cmd_str(a, OPT_EK_PUB) != NULL)
		return ak_qualified_name(cmd_str(a, OPT_EK_PUB), in);
	return 0;
}

/* quote_verify() and its report: 0 OK, 1 some check failed. */
static int
quote_check(struct quote_in *in)
{
	struct quote_expect ex;
	struct quote_evidence ev;
	struct quote_result res;
	struct verdict v;
	char *seltxt;
	size_t i;

	memset(&ex, 0, sizeof(ex));
	ex.ak = in->ak;
	ex.ak_name = in->qn_len > 0 ? in->qn : NULL;
	ex.ak_name_len = in->qn_len;
	ex.nonce = in->nonce;
	ex.nonce_len = in->nonce_len;
	ex.sel = &in->want;
	memset(&ev, 0, sizeof(ev));
	ev.attest = in->msg;
	ev.attest_len = in->msg_len;
	ev.sig = in->sig;
	ev.sig_len = in->sig_len;
	ev.pcrs = in->vals;
	verdict_init(&v);
	if (quote_verify(&ev, &ex, &res, &v) != ASSAY_OK) {
		for (i = 0; i < v.nfail; i++)
			printf("FAIL: %s: %s\n", v.fail[i].id, v.fail[i].detail);
		return 1;
	}
	seltxt = pcr_selection_format(&in->want);
	printf("OK: quote verified (%s, %s, resetCount %" PRIu32
	    ", restartCount %" PRIu32 ", clock %" PRIu64 "%s)\n",
	    sig_scheme_name(in->sig, in->sig_len), seltxt,
	    res.clock.reset_count, res.clock.restart_count,
	    res.clock.clock, in->qn_len > 0 ? ", signer checked" : "");
	free(seltxt);
	return 0;
}

int
cmd_quote_verify(struct cmd_args *a)
{
	struct quote_in in;
	int r;

	memset(&in, 0, sizeof(in));
	in.vals = xcalloc(1, sizeof(*in.vals));	/* ~12 KiB: keep off the stack */
	if ((r = quote_load(a, &in)) == 0)
		r = quote_check(&in);
	free(in.vals);
	free(in.msg);
	free(in.sig);
	free(in.pcrs);
	EVP_PKEY_free(in.ak);
	return r;
}
