/*
 * ear_claims.c — one agent's record as an EAR claims set (IETF RATS
 * draft-fv-rats-ear): ear.status from the agent's state, the AR4SI
 * trustworthiness vector from its state and last failure id through one
 * table (ear_fid_table, also printed in assay-verifier(8)), iat/exp, the
 * policy id and Assay's private claims. Pure: record in, JSON out.
 *
 * Values are those of draft-ietf-rats-ar4si section 2.3 (as implemented in
 * veraison/ear trustclaim.go): 0 no claim, 1 unexpected evidence, -1
 * verifier malfunction, 99 cryptographic validation failed (any claim);
 * instance-identity 2 recognized, 96 recognized but untrustworthy, 97 not
 * recognized; configuration 2 approved, 32 known vulnerabilities, 96
 * unsupportable; executables 2 approved boot- and run-time, 3 approved
 * boot-time, 33 unrecognized run-time, 96 contraindicated run-time;
 * hardware 2 genuine. Tiers: 2..31 affirming, 32..95 warning, 96..127
 * contraindicated; ear.status is affirming / warning / contraindicated /
 * none (draft-fv-rats-ear section 3.1).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/evidence/tpm_public.h"
#include "common/xmalloc.h"
#include "verifier/ear.h"

enum ear_claim {
	TV_INSTANCE, TV_CONFIG, TV_EXEC, TV_FS, TV_HW, TV_RT_OPAQUE,
	TV_ST_OPAQUE, TV_SOURCED, TV_COUNT
};

static const char *const tv_names[TV_COUNT] = {
	"instance-identity", "configuration", "executables", "file-system",
	"hardware", "runtime-opaque", "storage-opaque", "sourced-data",
};

/*
 * The failure id of an untrusted agent's last failed round -> the claim it
 * disproves and its value. The first matching entry wins; an entry ending
 * in '.' matches the id's prefix. Ids not listed (notices, transport) set
 * no claim. Claims a failed round did not reach stay 0 (no claim): only
 * instance-identity (the quote verified) is kept at 2 unless it failed.
 */
static const struct ear_fid_rule {
	const char	*id;
	enum ear_claim	 claim;
	int		 value;
} ear_fid_table[] = {
	{ "quote.signature",	TV_INSTANCE,	99 },	/* crypto validation failed */
	{ "quote.nonce",	TV_INSTANCE,	99 },	/* not fresh: replayed */
	{ "quote.pcr_digest",	TV_INSTANCE,	99 },
	{ "quote.signer",	TV_INSTANCE,	97 },	/* not the enrolled AK */
	{ "ak.mismatch",	TV_INSTANCE,	97 },
	{ "quote.clock",	TV_INSTANCE,	96 },	/* TPM clock went back */
	{ "quote.",		TV_INSTANCE,	1 },	/* format, magic, type, pcr_select */
	{ "evidence.",		TV_INSTANCE,	1 },	/* malformed document */
	{ "identity.signature",	TV_INSTANCE,	99 },
	{ "identity.nonce",	TV_INSTANCE,	99 },
	{ "identity.key",	TV_INSTANCE,	96 },	/* key may live outside the TPM */
	{ "identity.",		TV_INSTANCE,	97 },	/* format, signer, name */
	{ "pcr.value",		TV_EXEC,	96 },	/* a measurement not allowed */
	{ "ima.unknown",	TV_EXEC,	33 },	/* unrecognized (warn only) */
	{ "ima.not_allowed",	TV_EXEC,	96 },
	{ "ima.signature",	TV_EXEC,	96 },
	{ "ima.format",		TV_EXEC,	1 },
	{ "ima.",		TV_EXEC,	99 },	/* template_hash, replay, boot_aggregate */
	{ "eventlog.format",	TV_CONFIG,	1 },
	{ "eventlog.replay",	TV_CONFIG,	99 },
	{ "eventlog.boot_app",	TV_EXEC,	96 },
	{ "eventlog.driver",	TV_EXEC,	96 },
	{ "eventlog.dbx",	TV_CONFIG,	32 },	/* known vulnerabilities */
	{ "eventlog.",		TV_CONFIG,	96 },	/* secureboot, pk, kek, db, cmdline, event */
	{ "policy.missing",	TV_CONFIG,	-1 },	/* the verifier could not appraise */
	{ NULL,			TV_COUNT,	0 }
};

static const struct ear_fid_rule *
fid_rule(const char *id)
{
	const struct ear_fid_rule *e;
	size_t n;

	if (id == NULL)
		return NULL;
	for (e = ear_fid_table; e->id != NULL; e++) {
		n = strlen(e->id);
		if (e->id[n - 1] == '.' ? strncmp(id, e->id, n) == 0 :
		    strcmp(id, e->id) == 0)
			return e;
	}
	return NULL;
}

/*
 * ear.status from Assay's state: trusted affirming, untrusted
 * contraindicated; everything without a fresh verdict is "none" (the
 * draft's "appraisal could not be conducted"): unreachable (no evidence
 * came: not a warning about evidence we judged), pending, registered,
 * stopped.
 */
static const char *
ear_status(int state)
{
	switch (state) {
	case AGENT_TRUSTED:
		return "affirming";
	case AGENT_UNTRUSTED:
		return "contraindicated";
	default:
		return "none";
	}
}

/*
 * The vector: trusted -> instance-identity 2 (quote signed by the enrolled
 * AK), configuration 2 and executables 2 (every policy check passed),
 * hardware 2 when the EK certificate chained to a TPM vendor CA; untrusted
 * -> instance-identity 2 and hardware as above, the failing claim from the
 * table; otherwise no claims. file-system, runtime-opaque, storage-opaque
 * and sourced-data are never appraised by Assay: 0.
 */
static json_t *
ear_vector(const struct agent_rec *rec)
{
	const struct ear_fid_rule *e;
	int tv[TV_COUNT] = { 0 };
	json_t *o;

	if (rec->state == AGENT_TRUSTED) {
		tv[TV_INSTANCE] = tv[TV_CONFIG] = tv[TV_EXEC] = 2;
		tv[TV_HW] = rec->ek_cert != NULL ? 2 : 0;
	} else if (rec->state == AGENT_UNTRUSTED) {
		tv[TV_INSTANCE] = 2;
		tv[TV_HW] = rec->ek_cert != NULL ? 2 : 0;
		if ((e = fid_rule(rec->reason)) != NULL)
			tv[e->claim] = e->value;
	}
	o = json_object();
	for (int i = 0; i < TV_COUNT; i++)
		json_object_set_new(o, tv_names[i], json_integer(tv[i]));
	return o;
}

/* Assay's private claims, under "assay". */
/*
 * cnf (RFC 7800): a trusted host's TPM-resident identity key, by its RFC
 * 7638 thumbprint (jkt): a relying party that took the result over TLS
 * authenticated with that key (the identity certificate) knows the result
 * is about the host it is talking to, not a copy. NULL: none.
 */
static json_t *
ear_cnf(const struct agent_rec *rec)
{
	struct tpm2_public pub;
	json_t *o = NULL;
	char *jkt;

	if (rec->state != AGENT_TRUSTED || rec->id_pub == NULL ||
	    tpm2_public_parse(rec->id_pub, rec->id_pub_len, &pub) != 0)
		return NULL;
	if ((jkt = ear_jwk_thumbprint(pub.pkey)) != NULL)
		o = json_pack("{s:s}", "jkt", jkt);
	free(jkt);
	tpm2_public_free(&pub);
	return o;
}

static json_t *
ear_assay(const struct agent_rec *rec)
{
	json_t *fids = json_array();

	if (rec->reason != NULL && rec->state != AGENT_TRUSTED)
		json_array_append_new(fids, json_string(rec->reason));
	return json_pack("{s:o, s:s, s:o, s:I, s:s}",
	    "failure_ids", fids,
	    "state", agent_state_name(rec->state),
	    "tpm_reset_count", rec->clock.valid ?
	    json_integer((json_int_t)rec->clock.reset_count) : json_null(),
	    "last_attested", (json_int_t)rec->last_attested,
	    "mode", rec->push ? "push" : "pull");
}

/*
 * iat is the time of the appraisal the result reports: a trusted agent's
 * last successful round (never later: a stale affirming result must not
 * look fresh), otherwise the time of the agent's last state change (the
 * failing round, the round it became unreachable), or now when there was
 * none. exp = iat + 2 x the agent's interval: a relying party holding an
 * affirming result knows it is at most one missed round old; an old
 * contraindicated or "none" result may be born expired, which a relying
 * party treats as not trusted all the same.
 */
json_t *
ear_claims(const struct ear_keys *k, const struct agent_rec *rec,
    const char *policy_name, int64_t policy_rev, long interval, int64_t now)
{
	json_t *sub, *submods, *o;
	int64_t iat;
	char *pid;

	if (rec->state == AGENT_TRUSTED && rec->last_attested > 0)
		iat = rec->last_attested;
	else
		iat = rec->last_event_at > 0 ? rec->last_event_at : now;
	sub = json_pack("{s:s, s:o, s:o}",
	    "ear.status", ear_status(rec->state),
	    "ear.trustworthiness-vector", ear_vector(rec),
	    "assay", ear_assay(rec));
	if (policy_name != NULL) {
		/* The version the verdict was judged with, once known. */
		pid = rec->policy_version > 0 ? xasprintf("policy:%s@v%lld",
		    policy_name, (long long)rec->policy_version) :
		    xasprintf("policy:%s@%016" PRIx64, policy_name,
		    (uint64_t)policy_rev);
		json_object_set_new(sub, "ear.appraisal-policy-id",
		    json_string(pid));
		free(pid);
	}
	submods = json_object();
	json_object_set_new(submods, rec->id, sub);
	o = json_pack("{s:s, s:I, s:I, s:{s:s, s:s}, s:o, s:o*}",
	    "eat_profile", EAR_PROFILE,
	    "iat", (json_int_t)iat,
	    "exp", (json_int_t)(iat + 2 * (int64_t)(interval > 0 ? interval : 1)),
	    "ear.verifier-id", "developer", ear_developer(k),
	    "build", "assay-verifier dev",
	    "submods", submods, "cnf", ear_cnf(rec));
	return o;
}
