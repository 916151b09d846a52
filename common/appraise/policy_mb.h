/*
 * policy_mb.h — the compiled measured_boot: section of a policy and its
 * evaluation on the facts decoded from a UEFI event log (eventlog.h).
 *
 *   measured_boot:
 *     secure_boot: required | allowed
 *     pk:  ["sha256:<hex>", ...]       # every measured PK entry allowed
 *     kek: [...]                       # same for KEK
 *     db:  [...]                       # same for db
 *     dbx_contains: ["sha256:<hex>", ...]  # each among the measured dbx
 *     boot_apps: ["sha256:<hex>", ...] # EV_EFI_BOOT_SERVICES_APPLICATION
 *     drivers: [...]                   # boot and runtime services drivers
 *     kernel_cmdline: ["exact line", "re:<ERE>", "glob:<pattern>", ...]
 *     require_events: ["EV_SEPARATOR", ...]   # type names (or 0x hex)
 *     forbid_events: ["EV_EFI_HCRTM_EVENT", ...]
 *     forbid_actions: ["<EV_EFI_ACTION string>", ...]
 *
 * An absent key is not checked. allowed_boot_apps is accepted as another
 * name for boot_apps.
 *
 * Key database entries (pk, kek, db, dbx_contains) name one
 * EFI_SIGNATURE_DATA of the variable by its "entry digest" (see
 * mb_sig_entry): for the hash signature types EFI_CERT_SHA1/SHA224/
 * SHA256/SHA384/SHA512 (signature data exactly the hash's size) it is the
 * hash itself, written "sha1:", "sha224:", "sha256:", "sha384:" or
 * "sha512:" + hex; for every other type (EFI_CERT_X509 certificates
 * above all, but also X509_SHA*, RSA2048...) it is "sha256:" + the SHA-256
 * of the signature data, i.e. a DER certificate's SHA-256 fingerprint.
 * Bare hex is read as the algorithm its length names (40 sha1, 56 sha224,
 * 64 sha256, 96 sha384, 128 sha512).
 *
 * Application and driver digests are Authenticode digests in the policy's
 * bank: "<bank>:<hex>" or bare hex of the bank's length.
 *
 * kernel_cmdline: a measured, verified command line must equal an exact
 * entry, or match a "re:" POSIX extended regex (anchored only as written:
 * use ^...$ for a whole-line match), or a "glob:" fnmatch(3) pattern (no
 * flags: '*' matches '/' too).
 */
#ifndef ASSAY_POLICY_MB_H
#define ASSAY_POLICY_MB_H

#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "common/buf.h"
#include "common/evidence/eventlog.h"
#include "common/evidence/verdict.h"

struct mb_policy;
struct policy;

/* Most entries one list of the section may hold. */
#define MB_LIST_MAX		65536
/* Longest entry digest string mb_sig_entry() writes, NUL included. */
#define MB_ENTRY_MAX		(7 + 128 + 1)

/*
 * Compile the value node v of the measured_boot: key (a mapping) of the
 * loaded document doc; bank is the policy's bank (TPM2_ALG_*), the bank
 * of boot_apps/drivers digests. Errors: ASSAY_ERR_CONFIG with "line N:
 * ..." (unknown key, wrong type, bad digest, bad regex, unknown event
 * type name, bad secure_boot value).
 */
int	mb_policy_compile(yaml_document_t *doc, yaml_node_t *v, uint16_t bank,
	    struct mb_policy **out);
void	mb_policy_free(struct mb_policy *p);		/* NULL-safe */

/*
 * Evaluate the facts of one event log, adding a failure for each
 * violation, every detail naming the offending item:
 *   eventlog.secureboot  required, but SecureBoot not measured, off, or
 *                        its event digest does not match its data
 *   eventlog.pk/.kek/.db variable not measured, not verified, malformed,
 *                        or an entry not in the list
 *   eventlog.dbx         dbx not measured/verified/well-formed, or a
 *                        required revocation missing
 *   eventlog.boot_app    an application digest not allowed (or absent)
 *   eventlog.driver      a driver digest not allowed (or absent)
 *   eventlog.cmdline     no verified command line matches any entry
 *   eventlog.event       a required event type missing, a forbidden type
 *                        or EV_EFI_ACTION string present
 */
void	mb_policy_check(const struct mb_policy *p, const struct el_facts *f,
	    struct verdict *vd);

/* The policy's measured_boot: section, NULL without one. */
const struct mb_policy *policy_mb(const struct policy *p);

/*
 * The entry digest of one EFI_SIGNATURE_DATA (signature type GUID and its
 * signature data), as described above, into out (MB_ENTRY_MAX bytes).
 */
int	mb_sig_entry(const uint8_t type[16], const struct cur *sig,
	    char out[MB_ENTRY_MAX]);

/* The event type named by s ("EV_SEPARATOR" or "0x80000007"), -1 if none. */
int	mb_event_type(const char *s, uint32_t *type);

#endif
