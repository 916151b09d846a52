/*
 * verdict.c — the failure-id table (the single source for code, docs, API
 * and tests) and the verdict that collects failed checks and notices.
 * Recording an id that is not in the table is a programming error: abort.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/encode.h"
#include "common/evidence/verdict.h"

const struct failure_def failure_table[] = {
	{ "quote.format",	FK_INTEGRITY, "quote or signature structure is malformed" },
	{ "quote.signature",	FK_INTEGRITY, "quote signature does not verify with the enrolled AK, or uses SHA-1" },
	{ "quote.magic",	FK_INTEGRITY, "quote magic is not TPM_GENERATED_VALUE" },
	{ "quote.type",		FK_INTEGRITY, "attestation structure is not a quote" },
	{ "quote.nonce",	FK_INTEGRITY, "quote extraData differs from the nonce sent" },
	{ "quote.signer",	FK_INTEGRITY, "quote qualifiedSigner is not the enrolled AK name" },
	{ "quote.pcr_select",	FK_INTEGRITY, "quoted PCR selection differs from the one requested, or a value outside it was reported" },
	{ "quote.pcr_digest",	FK_INTEGRITY, "reported PCR values do not match the quoted pcrDigest" },
	{ "quote.clock",	FK_INTEGRITY, "TPM clock, resetCount or restartCount went backwards" },
	{ "pcr.value",		FK_INTEGRITY, "a PCR value is not allowed by the policy" },
	{ "evidence.format",	FK_INTEGRITY, "agent sent a malformed evidence document" },
	{ "ak.mismatch",	FK_INTEGRITY, "attestation key differs from the enrolled one" },
	{ "tpm.reboot",		FK_NOTICE,    "TPM resetCount increased: the host rebooted" },
	{ "tpm.firmware",	FK_NOTICE,    "TPM firmwareVersion changed" },
	{ "comm.unreachable",	FK_TRANSPORT, "agent could not be reached" },
	{ "comm.tls",		FK_TRANSPORT, "TLS handshake or peer certificate check failed" },
	{ "ima.not_allowed",	FK_INTEGRITY, "IMA measured a file or digest the policy does not allow" },
	{ "ima.signature",	FK_INTEGRITY, "IMA file signature missing or invalid" },
	{ "ima.unknown",	FK_NOTICE,    "IMA measured a file the policy does not know (unknown: warn)" },
	{ "ima.template_hash",	FK_INTEGRITY, "IMA entry template hash does not match its data" },
	{ "ima.replay",		FK_INTEGRITY, "IMA list does not replay to the quoted PCR 10" },
	{ "ima.boot_aggregate",	FK_INTEGRITY, "IMA boot_aggregate does not match the quoted PCRs" },
	{ "ima.format",		FK_INTEGRITY, "IMA measurement list is malformed" },
	{ "eventlog.format",	FK_INTEGRITY, "UEFI event log is malformed" },
	{ "eventlog.replay",	FK_INTEGRITY, "UEFI event log does not replay to the quoted PCRs" },
	{ "eventlog.secureboot", FK_INTEGRITY, "secure boot state is not what the policy requires" },
	{ "eventlog.pk",	FK_INTEGRITY, "a PK entry is not allowed by the policy (or PK not measured)" },
	{ "eventlog.kek",	FK_INTEGRITY, "a KEK entry is not allowed by the policy (or KEK not measured)" },
	{ "eventlog.db",	FK_INTEGRITY, "a db entry is not allowed by the policy (or db not measured)" },
	{ "eventlog.dbx",	FK_INTEGRITY, "dbx lacks a revocation the policy requires" },
	{ "eventlog.boot_app",	FK_INTEGRITY, "a boot application is not allowed by the policy" },
	{ "eventlog.driver",	FK_INTEGRITY, "a UEFI driver is not allowed by the policy" },
	{ "eventlog.cmdline",	FK_INTEGRITY, "kernel command line is not allowed by the policy" },
	{ "eventlog.event",	FK_INTEGRITY, "a required event is missing or a forbidden one present" },
	{ "policy.missing",	FK_INTEGRITY, "the agent's policy was not found" },
	{ NULL,			FK_INTEGRITY, NULL }
};

const struct failure_def *
failure_lookup(const char *id)
{
	const struct failure_def *f;

	if (id == NULL)
		return NULL;
	for (f = failure_table; f->id != NULL; f++)
		if (strcmp(f->id, id) == 0)
			return f;
	return NULL;
}

void
verdict_init(struct verdict *v)
{
	memset(v, 0, sizeof(*v));
}

static void
verdict_add(struct verdict *v, struct verdict_item *items, size_t *n,
    const char *id, const char *fmt, va_list ap)
{
	const struct failure_def *f;

	if ((f = failure_lookup(id)) == NULL) {
		fprintf(stderr, "verdict: unknown failure id \"%s\"\n",
		    id == NULL ? "(null)" : id);
		abort();
	}
	if (*n >= VERDICT_MAX_ITEMS) {
		v->dropped++;
		return;
	}
	items[*n].id = f->id;
	vsnprintf(items[*n].detail, sizeof(items[*n].detail), fmt, ap);
	/* Details quote evidence bytes: never pass escapes or bad UTF-8 on. */
	text_sanitize(items[*n].detail);
	(*n)++;
}

void
verdict_fail(struct verdict *v, const char *id, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verdict_add(v, v->fail, &v->nfail, id, fmt, ap);
	va_end(ap);
}

void
verdict_notice(struct verdict *v, const char *id, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verdict_add(v, v->notice, &v->nnotice, id, fmt, ap);
	va_end(ap);
}

int
verdict_ok(const struct verdict *v)
{
	return v->nfail == 0;
}

int
verdict_has(const struct verdict *v, const char *id)
{
	size_t i;

	for (i = 0; i < v->nfail; i++)
		if (strcmp(v->fail[i].id, id) == 0)
			return 1;
	for (i = 0; i < v->nnotice; i++)
		if (strcmp(v->notice[i].id, id) == 0)
			return 1;
	return 0;
}
