/*
 * tpm_int.h — internals shared by tpm.c (TCTI/ESYS context, EK and AK
 * handling), tpm_nv.c (EK certificate and chain) and tpm_quote.c (PCR
 * reads, quotes, activation). Not for use outside agent/tpm*.c. Include after the project headers: the TSS
 * redefines some TPM2_* constants that common/evidence/tpm2.h also has.
 */
#ifndef ASSAY_AGENT_TPM_INT_H
#define ASSAY_AGENT_TPM_INT_H

#include <tss2_esys.h>

#include "agent/tpm.h"

#define TPM_TRACK_MAX		8

struct tpm {
	TSS2_TCTI_CONTEXT	*tcti;
	ESYS_CONTEXT		*esys;
	ESYS_TR			 flush[TPM_TRACK_MAX];	/* transients, sessions */
	size_t			 nflush;
};

struct ek {
	ESYS_TR			 tr;
	int			 policy;	/* auth by PolicySecret session */
	uint16_t		 name_alg;
	uint32_t		 cert_nv;
	TPM2B_PUBLIC		*pub;		/* Esys-allocated */
};

/* assay_err_set(ASSAY_ERR_TPM) naming the command and the decoded rc. */
int		 tpmx_err(const char *cmd, TSS2_RC rc);
/* Open TCTI + ESYS, Startup; close flushes every tracked handle first. */
int		 tpmx_open(const struct tpm_cfg *cfg, struct tpm *t);
void		 tpmx_close(struct tpm *t);
/* Remember a transient object or session to flush; flush one early. */
void		 tpmx_track(struct tpm *t, ESYS_TR tr);
void		 tpmx_flush(struct tpm *t, ESYS_TR tr);
uint32_t	 tpmx_ak_handle(const struct tpm_cfg *cfg);
/* The persistent AK (*tr ESYS_TR_NONE when the handle is empty). */
int		 tpmx_ak_find(struct tpm *t, const struct tpm_cfg *cfg, ESYS_TR *tr,
		    TPM2B_PUBLIC **pub);
/* The same, ASSAY_ERR_STATE when there is none. */
int		 tpmx_ak_need(struct tpm *t, const struct tpm_cfg *cfg, ESYS_TR *tr,
		    TPM2B_PUBLIC **pub);
/* A signature's wire bytes into a new buffer. */
int		 tpmx_marshal_signature(const TPMT_SIGNATURE *s, uint8_t **out,
		    size_t *outlen);
/* pub's wire bytes (size prefix included) into a new buffer. */
int		 tpmx_marshal_public(const TPM2B_PUBLIC *pub, uint8_t **out,
		    size_t *outlen);
int		 tpmx_ek_load(struct tpm *t, uint16_t alg, struct ek *ek);
void		 tpmx_ek_free(struct ek *ek);
/* Session authorizing EK use; tpmx_ek_auth_done flushes a policy one. */
int		 tpmx_ek_auth(struct tpm *t, const struct ek *ek, ESYS_TR *sess);
void		 tpmx_ek_auth_done(struct tpm *t, ESYS_TR sess);
/* Is this persistent or NV handle defined? */
int		 tpmx_handle_present(struct tpm *t, uint32_t h, int *present);
/* The EK's certificate (none: id->ek_cert NULL) and the EK chain from NV. */
int		 tpmx_read_ek_cert(struct tpm *t, const struct ek *ek,
		    struct tpm_identity *id);
int		 tpmx_read_ek_chain(struct tpm *t, struct tpm_identity *id);

#endif
