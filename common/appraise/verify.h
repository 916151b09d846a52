/*
 * verify.h — one attestation round's verification: the job (everything the
 * checks need, owned by the job so it can run on any thread), the check
 * pipeline (a table of stages: quote, static PCRs, the event log, IMA, the
 * identity key's certification).
 * The worker pool that runs jobs off the verifier's event loop is
 * verifier/verify_pool.c.
 */
#ifndef ASSAY_VERIFY_H
#define ASSAY_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/proto/doc.h"
#include "common/proto/quote_req.h"
#include "common/evidence/quote.h"
#include "common/evidence/verdict.h"
#include "common/appraise/policy.h"
#include "common/appraise/verify_ima.h"
#include "common/appraise/verify_mb.h"

struct verify_job {
	/* inputs, owned by the job */
	char			 agent_id[128];
	uint64_t		 gen;		/* caller's generation tag */
	uint64_t		 epoch;		/* caller's policy epoch tag */
	uint8_t			*body;		/* evidence document text */
	size_t			 body_len;
	EVP_PKEY		*ak;		/* reference held */
	uint8_t			 ak_name[2 + TPM2_MAX_DIGEST];
	size_t			 ak_name_len;
	uint8_t			 nonce[QUOTE_NONCE_MAX];
	size_t			 nonce_len;
	struct pcr_selection	 sel;
	struct clock_state	 prev;
	struct policy		*policy;	/* reference held, may be NULL */
	struct ima_state	 ima_in;	/* state after the last accepted round */
	uint64_t		 ima_max;	/* IMA page entries asked, 0 none */
	size_t			 ima_bytes;	/* IMA page bytes asked, 0 none */
	struct mb_state		 mb_in;
	/* outputs */
	struct verdict		 verdict;
	struct quote_result	 qres;
	double			 seconds;	/* time spent verifying */
	struct ima_state	 ima_out;	/* state to keep if the round is accepted */
	struct mb_state		 mb_out;
	size_t			 ima_accepted;	/* entries accepted this round */
	int			 ima_pending;	/* IMA page held unbound: not judged */
	int			 ima_more;	/* the agent's list goes on: page again */
	uint8_t			*id_pub;	/* identity key certified this round
						 * (TPM2B_PUBLIC), or NULL */
	size_t			 id_pub_len;
	int			 retry;		/* inconclusive: poll again at once */
	char			 retry_reason[128];
	void			*arg;		/* caller's */
	/*
	 * The audit trail (audit_round.h): with keep_body set, verify_run
	 * keeps the body as received in kept, and the caller's thread may
	 * build the round's record (audit_rec) with the AK it was checked
	 * with (ak_pub, TPM2B_PUBLIC). All owned by the job.
	 */
	int			 keep_body;
	uint8_t			*kept;
	size_t			 kept_len;
	uint8_t			*ak_pub;
	size_t			 ak_pub_len;
	struct json_t		*audit_rec;
};

/* A new job; it takes body (caller's allocation) and refs ak and policy. */
struct verify_job *verify_job_new(const char *agent_id, uint8_t *body, size_t body_len,
	    EVP_PKEY *ak, struct policy *policy);
void	verify_job_free(struct verify_job *j);

/* Run the whole pipeline on j (any thread), once: it frees j->body. */
void	verify_run(struct verify_job *j);

/*
 * The state both stages carry between rounds as one JSON text
 * ({"ima":{...},"measured_boot":{...}}, agent_rec.verify_state), or NULL
 * when neither has any; caller frees. verify_state_from_json reads it.
 */
char	*verify_state_to_json(const struct ima_state *ima, const struct mb_state *mb);
void	verify_state_from_json(const char *text, struct ima_state *ima,
	    struct mb_state *mb);

#endif
