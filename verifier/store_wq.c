/*
 * store_wq.c — the store's write-behind queue: an agent change (record,
 * event, notification rows and audit record, one transaction) that could
 * not be written (disk full, read-only, locked) is kept here, in order,
 * and retried with backoff until it lands; any later change waits behind
 * it, so an agent's history lands in the order it happened. Also the
 * fault and size figures behind /v1/health and /metrics. Same thread as
 * store.c.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>


#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "verifier/store.h"
#include "verifier/store_audit.h"
#include "verifier/store_int.h"

struct wq_item {
	struct wq_item		*next;
	struct agent_rec	 rec;
	int			 has_ev;
	struct store_event	 ev;		/* deep copy */
	char			**targets;
	size_t			 ntargets;
	int			 has_au;
	struct store_audit	 au;		/* deep copy */
};

static void
item_free(struct wq_item *it)
{
	agent_rec_free(&it->rec);
	store_event_free(&it->ev);
	store_audit_free(&it->au);
	for (size_t i = 0; i < it->ntargets; i++)
		free(it->targets[i]);
	free(it->targets);
	free(it);
}

void
store_wq_free(struct store *s)
{
	struct wq_item *it, *next;

	for (it = s->wq_head; it != NULL; it = next) {
		next = it->next;
		item_free(it);
	}
	s->wq_head = s->wq_tail = NULL;
	s->wq_len = 0;
}

size_t
store_wq_len(const struct store *s)
{
	return s->wq_len;
}

/* The agent's last queued change, or NULL. */
static struct wq_item *
last_for(struct store *s, const char *id)
{
	struct wq_item *it, *last = NULL;

	for (it = s->wq_head; it != NULL; it = it->next)
		if (strcmp(it->rec.id, id) == 0)
			last = it;
	return last;
}

static void
enqueue(struct store *s, const struct agent_rec *a,
    const struct store_event *ev, const char *const *targets, size_t ntargets,
    const struct store_audit *au)
{
	struct wq_item *it, *last = last_for(s, a->id);

	if (ev != NULL && s->wq_len >= STORE_WQ_MAX &&
	    strcmp(ev->type, "notice") == 0 && last != NULL) {
		s->wq_dropped++;
		ev = NULL;	/* full: a notice goes, its record stays */
	}
	if (ev == NULL && au == NULL && last != NULL) {
		/* The newer record supersedes the queued one; its event stays. */
		agent_rec_free(&last->rec);
		agent_rec_copy(&last->rec, a);
		return;
	}
	it = xcalloc(1, sizeof(*it));
	agent_rec_copy(&it->rec, a);
	if (ev != NULL) {
		it->has_ev = 1;
		store_event_copy(&it->ev, ev);
		it->ev.seq = 0;
		if (it->ev.time == 0)
			it->ev.time = clock_unix();
	}
	if (au != NULL) {
		it->has_au = 1;
		store_audit_copy(&it->au, au);
	}
	if (ntargets > 0) {
		it->targets = xcalloc(ntargets, sizeof(*it->targets));
		for (size_t i = 0; i < ntargets; i++)
			it->targets[i] = xstrdup(targets[i]);
		it->ntargets = ntargets;
	}
	if (s->wq_tail != NULL)
		s->wq_tail->next = it;
	else
		s->wq_head = it;
	s->wq_tail = it;
	s->wq_len++;
}

static void
backoff(struct store *s)
{
	s->wq_backoff = s->wq_backoff <= 0 ? 1 :
	    s->wq_backoff * 2 > STORE_WQ_BACKOFF_MAX ? STORE_WQ_BACKOFF_MAX :
	    s->wq_backoff * 2;
	s->wq_retry_at = clock_unix() + s->wq_backoff;
}

int
store_wq_flush(struct store *s, int force, size_t *landed)
{
	struct wq_item *it;
	size_t n = 0;
	int r = ASSAY_OK;

	if (landed != NULL)
		*landed = 0;
	if (s->wq_head == NULL)
		return ASSAY_OK;
	if (!force && clock_unix() < s->wq_retry_at)
		return assay_err_set(ASSAY_ERR_DB, "store %s: %zu changes wait "
		    "to be written: %s", s->path, s->wq_len,
		    s->fail_msg != NULL ? s->fail_msg : "write failed");
	while ((it = s->wq_head) != NULL) {
		r = store_agent_put_audit(s, &it->rec, it->has_ev ? &it->ev :
		    NULL, (const char *const *)it->targets, it->ntargets,
		    it->has_au ? &it->au : NULL);
		if (r == ASSAY_ERR_STATE) {
			/* Another node holds the agent now: its change is void. */
			log_warnx("store %s: queued change dropped: %s", s->path,
			    assay_err_detail());
			r = ASSAY_OK;
		} else if (r != ASSAY_OK)
			break;
		else
			n++;
		s->wq_head = it->next;
		if (s->wq_head == NULL)
			s->wq_tail = NULL;
		s->wq_len--;
		item_free(it);
	}
	if (landed != NULL)
		*landed = n;
	if (r != ASSAY_OK) {
		backoff(s);
		return r;
	}
	s->wq_backoff = 0;
	s->wq_retry_at = 0;
	if (n > 0)
		log_notice("store %s: writable again: %zu queued changes "
		    "written", s->path, n);
	return ASSAY_OK;
}

void
store_wq_requeue(struct store *s, const struct agent_rec *a,
    const struct store_audit *au)
{
	enqueue(s, a, NULL, NULL, 0, au);
	backoff(s);
}

int
store_agent_save(struct store *s, const struct agent_rec *a,
    const struct store_event *ev, const char *const *targets, size_t ntargets)
{
	return store_agent_save_audit(s, a, ev, targets, ntargets, NULL);
}

int
store_agent_save_audit(struct store *s, const struct agent_rec *a,
    const struct store_event *ev, const char *const *targets, size_t ntargets,
    const struct store_audit *au)
{
	int r;

	if ((r = store_check_id(a->id)) != 0 || (r = store_check_event(ev)) != 0)
		return r;
	if (ntargets > 0 && ev == NULL)
		return assay_err_set(ASSAY_ERR_INVAL, "notification without an "
		    "event");
	if (agent_state_name(a->state) == NULL)
		return assay_err_set(ASSAY_ERR_INVAL, "agent %s: bad state %d",
		    a->id, a->state);
	if ((r = store_wq_flush(s, 0, NULL)) == ASSAY_OK) {
		/*
		 * A record alone joins the open group (SQLite, one node),
		 * with its audit record unless that is large (an IMA page:
		 * the group keeps a copy of what it holds until it commits).
		 */
		if (ev == NULL && s->node == NULL &&
		    db_kind(s->db) == DB_SQLITE && (au == NULL ||
		    strlen(au->record) <= STORE_BATCH_AUDIT_MAX)) {
			r = store_batch_put(s, a, au);
		} else
			r = store_agent_put_audit(s, a, ev, targets, ntargets, au);
		if (r == ASSAY_OK || r != ASSAY_ERR_DB)
			return r;
		backoff(s);
	}
	if (r != ASSAY_ERR_DB)
		return r;
	enqueue(s, a, ev, targets, ntargets, au);
	return ASSAY_ERR_DB;
}

void
store_health(struct store *s, struct store_health *h)
{
	memset(h, 0, sizeof(*h));
	h->pending = s->wq_len;
	h->failing = s->wq_len > 0 || s->write_failed;
	h->error = h->failing ? s->fail_msg : NULL;
	h->since = h->failing ? s->fail_since : 0;
	h->write_errors = s->write_errors;
	h->dropped = s->wq_dropped;
	/* A file is cheap to stat; a server is asked at retention steps. */
	if (db_kind(s->db) == DB_SQLITE)
		s->db_bytes = db_size(s->db);
	h->db_bytes = s->db_bytes;
	h->events_rows = s->events_rows;
	h->events_pruned = s->events_pruned;
	h->events_folded = s->events_folded;
}

int
store_wq_holds(const struct store *s, const char *id)
{
	for (const struct wq_item *it = s->wq_head; it != NULL; it = it->next)
		if (strcmp(it->rec.id, id) == 0)
			return 1;
	return 0;
}
