/*
 * agent_sim_db.c — `agent_sim serve|push -d DB`: the fleet written
 * straight into the verifier's store (enrolled, activated, admitted,
 * pending) with the static PCR policy "sim" that its values satisfy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/encode.h"
#include "common/xmalloc.h"
#include "verifier/store.h"
#include "tests/bench/agent_sim.h"

static char *
sim_policy_text(const struct sim *s)
{
	char *hex = hex_encode(pcr_values_get(&s->vals, TPM2_ALG_SHA256,
	    SIM_PIN_PCR), 32);
	char *t = xasprintf("name: sim\nbank: sha256\npcrs:\n  %d: [\"%s\"]\n",
	    SIM_PIN_PCR, hex);

	free(hex);
	return t;
}

/* Enrolled-and-admitted rows, written directly (see the header comment). */
int
sim_populate(const struct sim *s, const char *db, int interval, int push)
{
	struct store *st = NULL;
	struct agent_rec rec;
	char addr[INET_ADDRSTRLEN + 8], *pol;
	int r;

	if ((r = store_open(db, &st)) != 0)
		return r;
	pol = sim_policy_text(s);
	r = store_policy_put(st, "sim", pol);
	free(pol);
	for (size_t i = 0; r == 0 && i < s->n; i++) {
		const struct sim_agent *a = &s->a[i];

		memset(&rec, 0, sizeof(rec));
		snprintf(addr, sizeof(addr), "%s:%u", a->addr, a->port);
		snprintf(rec.id, sizeof(rec.id), "%s", a->id);
		rec.ek_pub = a->ek_pub;
		rec.ek_pub_len = a->ek_pub_len;
		rec.ak_pub = a->ak_pub;
		rec.ak_pub_len = a->ak_pub_len;
		rec.cert_cn = "sim";
		rec.activated = 1;
		rec.admitted = 1;
		rec.state = AGENT_PENDING;
		rec.address = push ? NULL : addr;
		rec.push = push;
		rec.policy = "sim";
		rec.interval = interval;
		rec.registered_at = (int64_t)time(NULL);
		r = store_agent_put(st, &rec, NULL);
	}
	store_close(st);
	return r;
}
