/*
 * enroll.h — the enrollment messages, one parser and one encoder each,
 * used by both sides: the registration request (agent to verifier), the
 * credential the verifier answers with, and the activation proof the
 * agent sends back. Parsing is strict on types, encodings and sizes;
 * every parser is pure and is what fuzz_enroll calls. mode absent: pull;
 * a push agent (push.h) has no listener, so no address.
 *
 *   POST /v1/register  {"id":ID, "ek_pub":B64, "ak_pub":B64,
 *                       ["ek_cert":B64], ["ek_chain":[B64...]],
 *                       ["address":"host:port"], ["mode":"pull"|"push"]}
 *   200                {"credential":B64, "secret":B64}
 *   POST /v1/register/ID/activate  {"proof":HEX64}
 */
#ifndef ASSAY_PROTO_ENROLL_H
#define ASSAY_PROTO_ENROLL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define ENROLL_ID_MAX		128	/* bytes with the NUL: ids are 1-127 */
#define ENROLL_CHAIN_MAX	8	/* intermediate certificates */
#define ENROLL_CERT_MAX		8192	/* DER bytes of one certificate */
#define ENROLL_PUB_MAX		1024	/* TPM2B_PUBLIC bytes (TPM_PUBLIC_MAX_SIZE) */
#define ENROLL_CRED_MAX		4096	/* credential blob, encrypted secret */
#define ENROLL_PROOF_LEN	32	/* ACTIVATION_PROOF_LEN */

struct enroll_register {
	char		 id[ENROLL_ID_MAX];
	char		*address;			/* "host:port", or NULL */
	int		 push;				/* "mode":"push": no address */
	uint8_t		*ek_pub;
	size_t		 ek_pub_len;
	uint8_t		*ak_pub;
	size_t		 ak_pub_len;
	uint8_t		*ek_cert;			/* NULL: none sent */
	size_t		 ek_cert_len;
	uint8_t		*chain[ENROLL_CHAIN_MAX];
	size_t		 chain_len[ENROLL_CHAIN_MAX];
	size_t		 nchain;
};

struct enroll_credential {
	uint8_t		*cred;
	size_t		 cred_len;
	uint8_t		*secret;			/* the encrypted seed */
	size_t		 secret_len;
};

/* 1 if id is 1-127 bytes of [A-Za-z0-9._:-]. */
int	enroll_id_valid(const char *id);

/* A registration request (o: the body's object). Owns *out on success. */
int	enroll_register_parse(const json_t *o, struct enroll_register *out);
/* in's fields as a request; the caller keeps in. */
json_t	*enroll_register_encode(const struct enroll_register *in);
void	enroll_register_free(struct enroll_register *r);

int	enroll_credential_parse(const json_t *o, struct enroll_credential *out);
json_t	*enroll_credential_encode(const uint8_t *cred, size_t cred_len,
	    const uint8_t *secret, size_t secret_len);
void	enroll_credential_free(struct enroll_credential *c);

int	enroll_proof_parse(const json_t *o, uint8_t proof[ENROLL_PROOF_LEN]);
json_t	*enroll_proof_encode(const uint8_t proof[ENROLL_PROOF_LEN]);

#endif
