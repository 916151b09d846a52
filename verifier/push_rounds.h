/*
 * push_rounds.h — push mode on the verifier: agents that accept no inbound
 * connection ask for their rounds (a challenge, held until the round is
 * due) and send the evidence; the same pipeline judges it and the answer
 * carries the verdict. See push_rounds.c.
 */
#ifndef ASSAY_PUSH_ROUNDS_H
#define ASSAY_PUSH_ROUNDS_H

struct http_request;
struct vagent;

enum push_phase {
	PUSH_IDLE = 0,		/* next round not due yet */
	PUSH_DUE,		/* due: waiting for the agent to ask */
	PUSH_ISSUED,		/* challenge out: waiting for its evidence */
	PUSH_VERIFYING		/* evidence in the verify pool */
};

/* Seconds a challenge request is held at most before "ask again". */
#define PUSH_HOLD_MAX		25
/* Challenges an agent may ask per second (burst twice that). */
#define PUSH_RATE		5

/* POST /v1/agents/{id}/challenge (the agent's certificate). */
void	api_push_challenge(struct http_request *r);
/* POST /v1/agents/{id}/evidence?challenge=HEX (the agent's certificate). */
void	api_push_evidence(struct http_request *r);
/* va's timer fired: its round is due, or a deadline passed. */
void	push_timer(struct vagent *va);
/* The round is judged (or voided): answer the evidence, next in delay s. */
void	push_round_done(struct vagent *va, double delay, int voided);
/* va leaves memory: answer what it holds. */
void	push_release(struct vagent *va);

#endif
