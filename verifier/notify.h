/*
 * notify.h — notifications of agent state changes: HTTPS webhooks (JSON
 * POST, server pinned to one CA, optional client certificate) and an
 * optional local command hook. Each state change queues one row per
 * target in the store, in the same transaction as the change itself, so a
 * restart never loses one; delivery runs on the event loop with retries
 * and exponential backoff, at most notify.max_inflight at a time.
 */
#ifndef ASSAY_NOTIFY_H
#define ASSAY_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "verifier/store.h"

struct vconf;
struct verifier;
struct notify;

#define NOTIFY_BACKOFF_MIN	2	/* s, first retry */
#define NOTIFY_BACKOFF_MAX	600	/* s */
#define NOTIFY_CMD_PREFIX	"command:"

struct notify_url {
	char		host[256];
	uint16_t	port;
	char		path[1024];	/* "/..." with the query, if any */
};

/* https://host[:port][/path][?query]; ASSAY_ERR_INVAL with detail otherwise. */
int	notify_url_parse(const char *url, struct notify_url *out);
/* Config checks (after paths are resolved): ASSAY_ERR_CONFIG naming path. */
int	notify_conf_check(const struct vconf *c, const char *path);
/*
 * The JSON body of a notification: {"agent","old_state","new_state",
 * "failure_id","detail","time" (RFC 3339 UTC),"event_seq"}; caller frees.
 */
char	*notify_body(const struct store_event *ev);
/* Delay before attempt number attempts + 1 (attempts >= 1 failed so far). */
long	notify_backoff(int attempts);

/*
 * Set up from v->conf (TLS context, targets). *out is NULL when nothing is
 * configured; every function below accepts a NULL notifier.
 */
int	notify_new(struct verifier *v, struct notify **out);
/* Start delivering (the loop exists): whatever is queued is due now. */
void	notify_start(struct notify *n);
/* Cancels deliveries in flight; their rows stay queued for the next start. */
void	notify_free(struct notify *n);
/* Targets to queue with a state change (for store_agent_put_notify). */
void	notify_targets(const struct notify *n, const char *const **targets,
	    size_t *ntargets);
/* New rows are queued: deliver now. */
void	notify_kick(struct notify *n);
void	notify_gauges(struct notify *n, uint64_t *pending, uint64_t *inflight);

#endif
