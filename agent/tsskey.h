/*
 * tsskey.h — the host identity key's file: the "TSS2 PRIVATE KEY" PEM of
 * the TPM 2.0 key-file format (OID 2.23.133.10.1.3, a loadable key:
 * emptyAuth, parent handle, TPM2B_PUBLIC, TPM2B_PRIVATE), which OpenSSL's
 * tpm2 provider, and so curl, openssl s_client and nginx, load unchanged.
 * It holds only the TPM-wrapped private blob: the key itself never
 * leaves the TPM.
 */
#ifndef ASSAY_AGENT_TSSKEY_H
#define ASSAY_AGENT_TSSKEY_H

#include "agent/tpm.h"

#define TSSKEY_PEM_NAME		"TSS2 PRIVATE KEY"
#define TSSKEY_OID		"2.23.133.10.1.3"
#define TSSKEY_FILE_MAX		16384

/* Read path into *k: ASSAY_ERR_NOT_FOUND when absent, FORMAT when not one. */
int	tsskey_read(const char *path, struct tpm_idkey *k);
/* Write k to path atomically, mode 0600. */
int	tsskey_write(const char *path, const struct tpm_idkey *k);

#endif
