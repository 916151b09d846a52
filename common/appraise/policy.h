/*
 * policy.h — attestation policies: compiled once from YAML or JSON text
 * into an immutable, reference-counted structure shared by every agent
 * that uses it. Sections: name, bank, pcrs (static values), ima (see
 * policy_ima.h), measured_boot (see policy_mb.h).
 */
#ifndef ASSAY_POLICY_H
#define ASSAY_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "common/evidence/pcr.h"
#include "common/evidence/verdict.h"

#define POLICY_NAME_MAX	64
/* Largest policy text: an upload, a policy_dir file, a stored policy. */
#define POLICY_TEXT_MAX	(64u * 1024 * 1024)

struct policy;

/*
 * Compile text (YAML; JSON is accepted as YAML's flow subset). name, if not
 * NULL, must equal the document's name: (or supplies it when absent).
 * Errors: ASSAY_ERR_CONFIG with detail "line N: ..." for unknown keys,
 * wrong types, bad hex or digest lengths, PCR indexes out of range, bad
 * regexes or event type names in measured_boot:; ASSAY_ERR_INVAL if name
 * is not a valid name.
 */
int	policy_compile(const char *text, size_t len, const char *name,
	    struct policy **out);
struct policy *policy_ref(struct policy *p);
void	policy_unref(struct policy *p);		/* NULL-safe */

const char *policy_name(const struct policy *p);
/* SHA-256 of the text it was compiled from: "same content" means equal. */
const uint8_t *policy_text_digest(const struct policy *p);
/*
 * The policy_dir file it came from, or NULL for a policy uploaded
 * through the API. Set once, before the policy is shared.
 */
const char *policy_source(const struct policy *p);
/* The version the verifier's store gave this text (0: not stored). */
int64_t	policy_version(const struct policy *p);
void	policy_set_version(struct policy *p, int64_t version);
void	policy_set_source(struct policy *p, const char *path);
uint16_t policy_bank(const struct policy *p);	/* TPM2_ALG_*, default sha256 */
/* The PCRs a quote must cover for this policy: bank 0-10 plus any pinned. */
void	policy_selection(const struct policy *p, struct pcr_selection *out);
/* Static pcrs: section; each mismatch adds pcr.value naming PCR and bank. */
void	policy_check_pcrs(const struct policy *p, const struct pcr_values *v,
	    struct verdict *vd);
/* The compiled ima: section (verifier/policy_ima.h), NULL without one. */
struct ima_policy;
const struct ima_policy *policy_ima(const struct policy *p);
/* The compiled measured_boot: section (verifier/policy_mb.h), or NULL. */
struct mb_policy;
const struct mb_policy *policy_mb(const struct policy *p);
/* Policy names: [A-Za-z0-9._-]{1,64}, except "." and "..". */
int	policy_name_valid(const char *name);

#endif
