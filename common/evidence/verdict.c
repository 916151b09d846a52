/*
 * verdict.c — the failure-id table (the single source for code, docs, API
 * and tests), indexed by the ids' compile-time constants, and the verdict
 * that collects failed checks and notices.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/encode.h"
#include "common/evidence/verdict.h"

const struct failure_def failure_table[FID_COUNT] = {
	[FID_QUOTE_FORMAT] = { "quote.format", FK_INTEGRITY, "quote or signature structure is malformed" },
	[FID_QUOTE_SIGNATURE] = { "quote.signature", FK_INTEGRITY, "quote signature does not verify with the enrolled AK, or uses SHA-1" },
	[FID_QUOTE_MAGIC] = { "quote.magic", FK_INTEGRITY, "quote magic is not TPM_GENERATED_VALUE" },
	[FID_QUOTE_TYPE] = { "quote.type", FK_INTEGRITY, "attestation structure is not a quote" },
	[FID_QUOTE_NONCE] = { "quote.nonce", FK_INTEGRITY, "quote extraData differs from the nonce sent" },
	[FID_QUOTE_SIGNER] = { "quote.signer", FK_INTEGRITY, "quote qualifiedSigner is not the enrolled AK name" },
	[FID_QUOTE_PCR_SELECT] = { "quote.pcr_select", FK_INTEGRITY, "quoted PCR selection differs from the one requested, or a value outside it was reported" },
	[FID_QUOTE_PCR_DIGEST] = { "quote.pcr_digest", FK_INTEGRITY, "reported PCR values do not match the quoted pcrDigest" },
	[FID_QUOTE_CLOCK] = { "quote.clock", FK_INTEGRITY, "TPM clock, resetCount or restartCount went backwards" },
	[FID_PCR_VALUE] = { "pcr.value", FK_INTEGRITY, "a PCR value is not allowed by the policy" },
	[FID_EVIDENCE_FORMAT] = { "evidence.format", FK_INTEGRITY, "agent sent a malformed evidence document" },
	[FID_AK_MISMATCH] = { "ak.mismatch", FK_INTEGRITY, "attestation key differs from the enrolled one" },
	[FID_TPM_REBOOT] = { "tpm.reboot", FK_NOTICE, "TPM resetCount increased: the host rebooted" },
	[FID_TPM_FIRMWARE] = { "tpm.firmware", FK_NOTICE, "TPM firmwareVersion changed" },
	[FID_COMM_UNREACHABLE] = { "comm.unreachable", FK_TRANSPORT, "agent could not be reached" },
	[FID_COMM_TLS] = { "comm.tls", FK_TRANSPORT, "TLS handshake or peer certificate check failed" },
	[FID_IMA_NOT_ALLOWED] = { "ima.not_allowed", FK_INTEGRITY, "IMA measured a file or digest the policy does not allow" },
	[FID_IMA_SIGNATURE] = { "ima.signature", FK_INTEGRITY, "IMA file signature missing or invalid" },
	[FID_IMA_UNKNOWN] = { "ima.unknown", FK_NOTICE, "IMA measured a file the policy does not know (unknown: warn)" },
	[FID_IMA_TEMPLATE_HASH] = { "ima.template_hash", FK_INTEGRITY, "IMA entry template hash does not match its data" },
	[FID_IMA_REPLAY] = { "ima.replay", FK_INTEGRITY, "IMA list does not replay to the quoted PCR 10" },
	[FID_IMA_BOOT_AGGREGATE] = { "ima.boot_aggregate", FK_INTEGRITY, "IMA boot_aggregate does not match the quoted PCRs" },
	[FID_IMA_FORMAT] = { "ima.format", FK_INTEGRITY, "IMA measurement list is malformed" },
	[FID_EVENTLOG_FORMAT] = { "eventlog.format", FK_INTEGRITY, "UEFI event log is malformed" },
	[FID_EVENTLOG_REPLAY] = { "eventlog.replay", FK_INTEGRITY, "UEFI event log does not replay to the quoted PCRs" },
	[FID_EVENTLOG_SECUREBOOT] = { "eventlog.secureboot", FK_INTEGRITY, "secure boot state is not what the policy requires" },
	[FID_EVENTLOG_PK] = { "eventlog.pk", FK_INTEGRITY, "a PK entry is not allowed by the policy (or PK not measured)" },
	[FID_EVENTLOG_KEK] = { "eventlog.kek", FK_INTEGRITY, "a KEK entry is not allowed by the policy (or KEK not measured)" },
	[FID_EVENTLOG_DB] = { "eventlog.db", FK_INTEGRITY, "a db entry is not allowed by the policy (or db not measured)" },
	[FID_EVENTLOG_DBX] = { "eventlog.dbx", FK_INTEGRITY, "dbx lacks a revocation the policy requires" },
	[FID_EVENTLOG_BOOT_APP] = { "eventlog.boot_app", FK_INTEGRITY, "a boot application is not allowed by the policy" },
	[FID_EVENTLOG_DRIVER] = { "eventlog.driver", FK_INTEGRITY, "a UEFI driver is not allowed by the policy" },
	[FID_EVENTLOG_CMDLINE] = { "eventlog.cmdline", FK_INTEGRITY, "kernel command line is not allowed by the policy" },
	[FID_EVENTLOG_EVENT] = { "eventlog.event", FK_INTEGRITY, "a required event is missing or a forbidden one present" },
	[FID_POLICY_MISSING] = { "policy.missing", FK_INTEGRITY, "the agent's policy was not found" },
	[FID_IDENTITY_FORMAT] = { "identity.format", FK_INTEGRITY, "identity key certification is malformed, or its magic or type is wrong" },
	[FID_IDENTITY_SIGNATURE] = { "identity.signature", FK_INTEGRITY, "identity key certification does not verify with the enrolled AK, or uses SHA-1" },
	[FID_IDENTITY_NONCE] = { "identity.nonce", FK_INTEGRITY, "identity key certification is not over this round's nonce" },
	[FID_IDENTITY_SIGNER] = { "identity.signer", FK_INTEGRITY, "identity key certification's qualifiedSigner is not the enrolled AK" },
	[FID_IDENTITY_NAME] = { "identity.name", FK_INTEGRITY, "the certified Name is not the Name of the identity key sent" },
	[FID_IDENTITY_KEY] = { "identity.key", FK_INTEGRITY, "identity key could leave the TPM or was not made in it (attributes), or its algorithm is refused" },
};

const struct failure_def *
failure_lookup(const char *id)
{
	const struct failure_def *f;

	if (id == NULL)
		return NULL;
	for (f = failure_table; f < failure_table + FID_COUNT; f++)
		if (strcmp(f->id, id) == 0)
			return f;
	return NULL;
}

void
verdict_init(struct verdict *v)
{
	/* Items are read only below the counts: no need to clear 17 KiB. */
	v->nfail = 0;
	v->nnotice = 0;
	v->dropped = 0;
}

enum failure_id
failure_index(const struct failure_def *f)
{
	return (enum failure_id)(f - failure_table);
}

static void
verdict_add(struct verdict *v, struct verdict_item *items, size_t *n,
    enum failure_id id, const char *fmt, va_list ap)
{
	const struct failure_def *f;

	if ((unsigned)id >= FID_COUNT) {
		fprintf(stderr, "verdict: failure id %d out of range\n", (int)id);
		abort();
	}
	f = &failure_table[id];
	if (*n >= VERDICT_MAX_ITEMS) {
		v->dropped++;
		return;
	}
	items[*n].fid = id;
	items[*n].id = f->id;
	vsnprintf(items[*n].detail, sizeof(items[*n].detail), fmt, ap);
	/* Details quote evidence bytes: never pass escapes or bad UTF-8 on. */
	text_sanitize(items[*n].detail);
	(*n)++;
}

void
verdict_fail(struct verdict *v, enum failure_id id, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verdict_add(v, v->fail, &v->nfail, id, fmt, ap);
	va_end(ap);
}

void
verdict_notice(struct verdict *v, enum failure_id id, const char *fmt, ...)
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
