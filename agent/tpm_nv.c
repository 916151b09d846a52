/*
 * tpm_nv.c — the EK certificate and its chain from the TPM's NV indices:
 * a whole index read in TPM-sized pieces, the certificate trimmed to its
 * DER length (some TPMs pad the index), and every certificate of the TCG
 * EK chain range (an index may hold several, back to back).
 */
#include <stdlib.h>
#include <string.h>

#include "agent/tpm.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "common/xmalloc.h"

/* After the project headers: the TSS redefines some TPM2_* constants. */
#include <tss2_esys.h>
#include <tss2_rc.h>

#include "agent/tpm_int.h"

#define EK_CHAIN_FIRST		0x01c00100u
#define EK_CHAIN_LAST		0x01c001ffu

/* Bytes per NV_Read: TPM2_PT_NV_BUFFER_MAX if known, else 512; capped. */
static size_t
nv_chunk_size(struct tpm *t)
{
	TPMS_CAPABILITY_DATA *cap = NULL;
	TPMI_YES_NO more;
	size_t chunk = 512;

	if (Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE,
	    ESYS_TR_NONE, TPM2_CAP_TPM_PROPERTIES, TPM2_PT_NV_BUFFER_MAX, 1,
	    &more, &cap) == TSS2_RC_SUCCESS &&
	    cap->data.tpmProperties.count > 0 &&
	    cap->data.tpmProperties.tpmProperty[0].property ==
	    TPM2_PT_NV_BUFFER_MAX &&
	    cap->data.tpmProperties.tpmProperty[0].value > 0)
		chunk = cap->data.tpmProperties.tpmProperty[0].value;
	Esys_Free(cap);
	if (chunk > TPM2_MAX_NV_BUFFER_SIZE)	/* TPM2B_MAX_NV_BUFFER.buffer */
		chunk = TPM2_MAX_NV_BUFFER_SIZE;
	return chunk;
}

/* Read size bytes of the index into buf, chunk bytes per NV_Read. */
static int
nv_read_chunks(struct tpm *t, uint32_t index, ESYS_TR auth, ESYS_TR tr,
    size_t chunk, uint8_t *buf, size_t size)
{
	TPM2B_MAX_NV_BUFFER *data = NULL;
	size_t n, off = 0;
	int r = ASSAY_OK;
	TSS2_RC rc;

	while (off < size) {
		n = size - off < chunk ? size - off : chunk;
		if ((rc = Esys_NV_Read(t->esys, auth, tr, ESYS_TR_PASSWORD,
		    ESYS_TR_NONE, ESYS_TR_NONE, (UINT16)n, (UINT16)off,
		    &data)) != TSS2_RC_SUCCESS) {
			r = assay_err_set(ASSAY_ERR_TPM,
			    "TPM NV_Read(0x%08x, off %zu) failed: %s (0x%x)",
			    index, off, Tss2_RC_Decode(rc), (unsigned)rc);
			break;
		}
		if (data->size != n) {
			r = assay_err_set(ASSAY_ERR_TPM,
			    "NV_Read(0x%08x) returned %u bytes, asked %zu",
			    index, data->size, n);
			break;
		}
		memcpy(buf + off, data->buffer, n);
		off += n;
		Esys_Free(data);
		data = NULL;
	}
	Esys_Free(data);
	return r;
}

/* Read a whole NV index; *out NULL (no error) if absent or unwritten. */
static int
nv_read_all(struct tpm *t, uint32_t index, uint8_t **out, size_t *outlen)
{
	TPM2B_NV_PUBLIC *nvpub = NULL;
	ESYS_TR tr = ESYS_TR_NONE, auth;
	uint8_t *buf = NULL;
	size_t size = 0, chunk;
	int r, present;
	TSS2_RC rc;

	*out = NULL;
	*outlen = 0;
	if ((r = tpmx_handle_present(t, index, &present)) != 0 || !present)
		return r;
	chunk = nv_chunk_size(t);

	r = ASSAY_ERR_TPM;
	if ((rc = Esys_TR_FromTPMPublic(t->esys, index, ESYS_TR_NONE,
	    ESYS_TR_NONE, ESYS_TR_NONE, &tr)) != TSS2_RC_SUCCESS) {
		tr = ESYS_TR_NONE;
		r = tpmx_err("TR_FromTPMPublic(NV)", rc);
		goto out;
	}
	if ((rc = Esys_NV_ReadPublic(t->esys, tr, ESYS_TR_NONE, ESYS_TR_NONE,
	    ESYS_TR_NONE, &nvpub, NULL)) != TSS2_RC_SUCCESS) {
		r = tpmx_err("NV_ReadPublic", rc);
		goto out;
	}
	if (!(nvpub->nvPublic.attributes & TPMA_NV_WRITTEN) ||
	    nvpub->nvPublic.dataSize == 0) {
		r = ASSAY_OK;
		goto out;
	}
	if (nvpub->nvPublic.attributes & TPMA_NV_AUTHREAD)
		auth = tr;
	else if (nvpub->nvPublic.attributes & TPMA_NV_OWNERREAD)
		auth = ESYS_TR_RH_OWNER;
	else {
		r = assay_err_set(ASSAY_ERR_TPM,
		    "NV 0x%08x readable by neither owner nor its auth", index);
		goto out;
	}
	size = nvpub->nvPublic.dataSize;
	buf = xmalloc(size);
	if ((r = nv_read_chunks(t, index, auth, tr, chunk, buf, size)) != 0)
		goto out;
	*out = buf;
	*outlen = size;
	buf = NULL;
	r = ASSAY_OK;
 out:
	Esys_Free(nvpub);
	free(buf);
	if (tr != ESYS_TR_NONE)
		(void)Esys_TR_Close(t->esys, &tr);
	return r;
}

/* Length of the DER SEQUENCE at the start of c, 0 if there is none. */
static size_t
der_seq_len(struct cur *c)
{
	struct cur s = *c;
	uint8_t tag, b;
	size_t len = 0, nlen, hdr = 2;

	if (cur_u8(&s, &tag) != 0 || tag != 0x30 || cur_u8(&s, &b) != 0)
		return 0;
	if (b < 0x80)
		len = b;
	else {
		nlen = b & 0x7f;
		if (nlen == 0 || nlen > 3)
			return 0;
		hdr += nlen;
		while (nlen-- > 0) {
			if (cur_u8(&s, &b) != 0)
				return 0;
			len = (len << 8) | b;
		}
	}
	if (len > cur_left(&s))
		return 0;
	return hdr + len;
}

/* EK cert (trimmed to its DER length: some TPMs pad the index). */
int
tpmx_read_ek_cert(struct tpm *t, const struct ek *ek, struct tpm_identity *id)
{
	struct cur c;
	size_t n;
	int r;

	if ((r = nv_read_all(t, ek->cert_nv, &id->ek_cert, &id->ek_cert_len)) != 0)
		return r;
	if (id->ek_cert == NULL)
		return ASSAY_OK;
	cur_init(&c, id->ek_cert, id->ek_cert_len);
	if ((n = der_seq_len(&c)) != 0)
		id->ek_cert_len = n;
	return ASSAY_OK;
}

/* Certificates in the TCG EK chain range; an index may hold several. */
int
tpmx_read_ek_chain(struct tpm *t, struct tpm_identity *id)
{
	TPMS_CAPABILITY_DATA *cap = NULL;
	TPMI_YES_NO more;
	uint32_t idx[256];
	size_t nidx = 0, i, n;
	uint8_t *data;
	size_t len;
	struct cur c;
	int r;
	TSS2_RC rc;

	if ((rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE,
	    ESYS_TR_NONE, TPM2_CAP_HANDLES, EK_CHAIN_FIRST, 256, &more,
	    &cap)) != TSS2_RC_SUCCESS)
		return tpmx_err("GetCapability(NV handles)", rc);
	for (i = 0; i < cap->data.handles.count && nidx < 256; i++)
		if (cap->data.handles.handle[i] <= EK_CHAIN_LAST)
			idx[nidx++] = cap->data.handles.handle[i];
	Esys_Free(cap);

	for (i = 0; i < nidx; i++) {
		if ((r = nv_read_all(t, idx[i], &data, &len)) != 0)
			return r;
		if (data == NULL)
			continue;
		cur_init(&c, data, len);
		while ((n = der_seq_len(&c)) != 0) {
			if (id->nchain == TPM_EK_CHAIN_MAX) {
				log_warnx("tpm: more than %d EK chain certs",
				    TPM_EK_CHAIN_MAX);
				break;
			}
			id->chain[id->nchain] = xmemdup(c.p, n);
			id->chain_len[id->nchain++] = n;
			(void)cur_skip(&c, n);
		}
		free(data);
	}
	return ASSAY_OK;
}
