/*
 * ident_ca.h — the verifier as an issuing CA for host identities: from
 * the identity.* configuration (CA certificate and chain, its key, the
 * SPIFFE trust domain, the lifetime in attestation intervals), a short
 * X.509 certificate for an agent's TPM-resident identity key, with the
 * URI SAN spiffe://<trust domain>/host/<agent id>. Issued only for an
 * agent that is trusted now, whose key the AK certified in an accepted
 * round, and valid at most `intervals` rounds after its last one: a host
 * that stops being trusted gets no new certificate and the last expires.
 */
#ifndef ASSAY_IDENT_CA_H
#define ASSAY_IDENT_CA_H

#include <stdint.h>

#include "common/proto/identity.h"
#include "verifier/store.h"

#define IDENT_INTERVALS_DEFAULT	3
#define IDENT_BACKDATE		10	/* s notBefore lies before now */
#define IDENT_TRUST_DOMAIN_MAX	255

struct ident_ca;

/*
 * Load the CA: cert_path holds the issuing CA certificate first, then any
 * intermediates up to (not necessarily including) the root: the chain
 * handed out with every leaf. key_path its private key (EC, RSA or
 * Ed25519). ASSAY_ERR_CONFIG naming the file or the problem on error
 * (not a CA, key does not match, bad trust domain).
 */
int	ident_ca_load(const char *cert_path, const char *key_path,
	    const char *trust_domain, long intervals, struct ident_ca **out);
void	ident_ca_free(struct ident_ca *ca);	/* NULL-safe */

/* "spiffe://<trust domain>/host/<id>" (caller frees). */
char	*ident_spiffe_id(const struct ident_ca *ca, const char *id);

/* An identity's lifetime for an agent of this interval (s). */
long	ident_ca_lifetime(const struct ident_ca *ca, long interval);
/*
 * Whether rec may hold an identity now, and until when (*not_after):
 * ASSAY_OK, or ASSAY_ERR_STATE with the reason (see ident_ca_issue).
 */
int	ident_ca_check(const struct ident_ca *ca, const struct agent_rec *rec,
	    long interval, int64_t now, int64_t *not_after);
/*
 * An identity for rec now: ASSAY_OK and *out (caller frees), or
 * ASSAY_ERR_STATE with the reason (not trusted, no certified key, its
 * last round too old) or another error. interval: the agent's round
 * interval in seconds.
 */
int	ident_ca_issue(const struct ident_ca *ca, const struct agent_rec *rec,
	    long interval, int64_t now, struct ident_doc *out);

#endif
