/*
 * notify.c — delivery of agent state-change notifications. Owns the
 * webhook TLS context (server pinned to notify.ca, optional client
 * certificate), the configured targets (webhook URLs and the command
 * hook, "command:PATH"), and the loop that takes due rows from the store's
 * queue, leases them for one attempt, delivers them (HTTPS POST of the
 * JSON body, or fork+exec of the hook with the body on stdin, never a
 * shell) and then deletes or reschedules them with exponential backoff,
 * giving up after notify.max_age with a log line.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/http.h"
#include "common/log.h"
#include "common/tls.h"
#include "common/xmalloc.h"
#include "verifier/metrics.h"
#include "verifier/notify.h"
#include "verifier/verifier.h"

#define CHILD_POLL_USEC	50000

struct delivery {
	struct delivery		*next;
	struct notify		*n;
	int64_t			 id, created;
	int			 attempts;
	char			*target;
	pid_t			 pid;		/* command hook, 0 for webhooks */
	struct event		*child_ev;
	double			 deadline;
};

struct notify {
	struct verifier		*v;
	SSL_CTX			*ctx;
	struct http_client	*client;
	char			**targets;
	size_t			 ntargets;
	const char		*command;	/* path, or NULL */
	struct event		*timer;
	struct delivery		*busy;		/* in flight */
	int			 inflight;
};

/* ---- pure helpers ------------------------------------------------------ */

static int
url_char_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
		    *s == '#' || *s == '\\')
			return 0;
	return 1;
}

int
notify_url_parse(const char *url, struct notify_url *out)
{
	const char *auth, *end, *hp;
	char hostport[300];
	size_t alen;

	memset(out, 0, sizeof(*out));
	if (url == NULL || strncmp(url, "https://", 8) != 0)
		return assay_err_set(ASSAY_ERR_INVAL, "webhook %s: not an "
		    "https:// URL", url != NULL ? url : "(null)");
	if (!url_char_ok(url))
		return assay_err_set(ASSAY_ERR_INVAL, "webhook %s: spaces, "
		    "control characters, '\\' or a fragment", url);
	auth = url + 8;
	end = auth + strcspn(auth, "/?");
	alen = (size_t)(end - auth);
	if (alen == 0 || alen >= sizeof(hostport) - 8 ||
	    memchr(auth, '@', alen) != NULL)
		return assay_err_set(ASSAY_ERR_INVAL, "webhook %s: bad host "
		    "(empty, too long, or with user info)", url);
	memcpy(hostport, auth, alen);
	hostport[alen] = '\0';
	/* No port given: add the default so one parser handles both. */
	hp = strrchr(hostport, ':');
	if (hp == NULL || (hostport[0] == '[' && strchr(hp, ']') != NULL))
		memcpy(hostport + alen, ":443", 5);	/* room: checked above */
	if (http_split_hostport(hostport, out->host, sizeof(out->host),
	    &out->port) != 0 || out->host[0] == '\0' || out->port == 0)
		return assay_err_set(ASSAY_ERR_INVAL, "webhook %s: bad host or "
		    "port", url);
	if (snprintf(out->path, sizeof(out->path), "%s%s", *end == '?' ? "/" :
	    "", *end == '\0' ? "/" : end) >= (int)sizeof(out->path))
		return assay_err_set(ASSAY_ERR_INVAL, "webhook %s: path too long",
		    url);
	return ASSAY_OK;
}

int
notify_conf_check(const struct vconf *c, const char *path)
{
	struct notify_url u;
	char why[512];

	for (size_t i = 0; i < c->notify_webhooks.n; i++)
		if (notify_url_parse(c->notify_webhooks.v[i], &u) != 0) {
			/* Copy first: the detail buffer is what we overwrite. */
			snprintf(why, sizeof(why), "%s", assay_err_detail());
			return assay_err_set(ASSAY_ERR_CONFIG, "%s: notify.webhooks: "
			    "%s", path, why);
		}
	if (c->notify_webhooks.n > 0 && c->notify_ca == NULL)
		return assay_err_set(ASSAY_ERR_CONFIG, "%s: notify.ca is required "
		    "with notify.webhooks (webhook servers are pinned to it)", path);
	if ((c->notify_cert == NULL) != (c->notify_key == NULL))
		return assay_err_set(ASSAY_ERR_CONFIG, "%s: notify.cert and "
		    "notify.key go together", path);
	if (c->notify_command != NULL && c->notify_command[0] != '/')
		return assay_err_set(ASSAY_ERR_CONFIG, "%s: notify.command: %s is "
		    "not an absolute path", path, c->notify_command);
	return ASSAY_OK;
}

char *
notify_body(const struct store_event *ev)
{
	char when[32] = "";
	struct tm tm;
	time_t t = (time_t)ev->time;
	json_t *o;
	char *s;

	if (gmtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	o = json_object();
	json_object_set_new(o, "agent", json_string(ev->agent_id != NULL ?
	    ev->agent_id : ""));
	json_object_set_new(o, "old_state", ev->old_state != NULL ?
	    json_string(ev->old_state) : json_null());
	json_object_set_new(o, "new_state", ev->new_state != NULL ?
	    json_string(ev->new_state) : json_null());
	json_object_set_new(o, "failure_id", ev->failure_id != NULL ?
	    json_string(ev->failure_id) : json_null());
	json_object_set_new(o, "detail", ev->detail != NULL ?
	    json_string(ev->detail) : json_null());
	json_object_set_new(o, "time", json_string(when));
	json_object_set_new(o, "event_seq", json_integer(ev->seq));
	if ((s = json_dumps(o, JSON_COMPACT)) == NULL)
		fatalx("json_dumps failed");
	json_decref(o);
	return s;
}

long
notify_backoff(int attempts)
{
	long d = NOTIFY_BACKOFF_MIN;

	for (int i = 1; i < attempts && d < NOTIFY_BACKOFF_MAX; i++)
		d *= 2;
	return d > NOTIFY_BACKOFF_MAX ? NOTIFY_BACKOFF_MAX : d;
}

/* ---- set-up ------------------------------------------------------------ */

static void run_cb(evutil_socket_t, short, void *);

int
notify_new(struct verifier *v, struct notify **out)
{
	const struct vconf *c = &v->conf;
	struct notify *n;

	*out = NULL;
	if (c->notify_webhooks.n == 0 && c->notify_command == NULL)
		return ASSAY_OK;
	n = xcalloc(1, sizeof(*n));
	n->v = v;
	if (c->notify_webhooks.n > 0) {
		if ((n->ctx = tls_client_ctx(c->notify_cert, c->notify_key,
		    c->notify_ca)) == NULL) {
			char why[512];

			snprintf(why, sizeof(why), "%s", assay_err_detail());
			free(n);
			return assay_err_set(ASSAY_ERR_CONFIG, "notify TLS: %s", why);
		}
	}
	n->targets = xcalloc(c->notify_webhooks.n + 1, sizeof(*n->targets));
	for (size_t i = 0; i < c->notify_webhooks.n; i++)
		n->targets[n->ntargets++] = xstrdup(c->notify_webhooks.v[i]);
	if (c->notify_command != NULL) {
		n->targets[n->ntargets++] = xasprintf("%s%s", NOTIFY_CMD_PREFIX,
		    c->notify_command);
		n->command = c->notify_command;
	}
	*out = n;
	return ASSAY_OK;
}

void
notify_start(struct notify *n)
{
	if (n == NULL)
		return;
	if (n->ctx != NULL) {
		n->client = http_client_new(n->v->base, n->ctx);
		http_client_set_dns(n->client, n->v->dns);	/* webhook hosts */
	}
	if ((n->timer = evtimer_new(n->v->base, run_cb, n)) == NULL)
		fatalx("evtimer_new failed");
	/* Rows leased or backing off when we stopped: try them now. */
	if (store_notify_due_all(n->v->store, clock_unix()) != 0)
		log_warnx("notify: %s", assay_err_detail());
	notify_kick(n);
}

static void
delivery_free(struct delivery *d)
{
	if (d->child_ev != NULL)
		event_free(d->child_ev);
	free(d->target);
	free(d);
}

void
notify_free(struct notify *n)
{
	struct delivery *d;

	if (n == NULL)
		return;
	http_client_free(n->client);	/* webhook callbacks are not called */
	while ((d = n->busy) != NULL) {
		n->busy = d->next;
		if (d->pid > 0) {
			kill(-d->pid, SIGKILL);
			(void)waitpid(d->pid, NULL, 0);
		}
		delivery_free(d);
	}
	if (n->timer != NULL)
		event_free(n->timer);
	for (size_t i = 0; i < n->ntargets; i++)
		free(n->targets[i]);
	free(n->targets);
	SSL_CTX_free(n->ctx);
	free(n);
}

void
notify_targets(const struct notify *n, const char *const **targets,
    size_t *ntargets)
{
	*targets = NULL;
	*ntargets = 0;
	if (n == NULL)
		return;
	*targets = (const char *const *)n->targets;
	*ntargets = n->ntargets;
}

void
notify_kick(struct notify *n)
{
	struct timeval tv = { 0, 0 };

	if (n != NULL && n->timer != NULL)
		evtimer_add(n->timer, &tv);
}

void
notify_gauges(struct notify *n, uint64_t *pending, uint64_t *inflight)
{
	int64_t cnt = 0;

	*pending = 0;
	*inflight = 0;
	if (n == NULL)
		return;
	if (store_notify_count(n->v->store, &cnt, NULL) == 0 && cnt > 0)
		*pending = (uint64_t)cnt;
	*inflight = (uint64_t)n->inflight;
}

/* ---- completion -------------------------------------------------------- */

static void
busy_remove(struct notify *n, struct delivery *d)
{
	struct delivery **pp;

	for (pp = &n->busy; *pp != NULL; pp = &(*pp)->next)
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	n->inflight--;
}

static void
delivery_done(struct delivery *d, int ok, const char *detail)
{
	struct notify *n = d->n;
	struct store *s = n->v->store;
	int64_t now = clock_unix();
	int attempts = d->attempts + 1;
	long delay;

	busy_remove(n, d);
	if (ok) {
		log_info("notify %s: notification %lld delivered", d->target,
		    (long long)d->id);
		metrics_notify(n->v->metrics, 1, 0, 0);
		if (store_notify_done(s, d->id) != 0)
			log_warnx("notify: %s", assay_err_detail());
	} else if (now - d->created >= n->v->conf.notify_max_age) {
		log_err("notify %s: giving up on notification %lld after %d "
		    "attempts in %lld s: %s", d->target, (long long)d->id, attempts,
		    (long long)(now - d->created), detail);
		metrics_notify(n->v->metrics, 0, 1, 1);
		if (store_notify_done(s, d->id) != 0)
			log_warnx("notify: %s", assay_err_detail());
	} else {
		delay = notify_backoff(attempts);
		log_warnx("notify %s: notification %lld attempt %d failed (retry in "
		    "%ld s): %s", d->target, (long long)d->id, attempts, delay,
		    detail);
		metrics_notify(n->v->metrics, 0, 0, 1);
		if (store_notify_retry(s, d->id, now + delay, attempts) != 0)
			log_warnx("notify: %s", assay_err_detail());
	}
	delivery_free(d);
	notify_kick(n);
}

static void
webhook_cb(int err, int status, const uint8_t *body, size_t len, void *arg)
{
	struct delivery *d = arg;
	char detail[512];

	if (err != ASSAY_OK)
		snprintf(detail, sizeof(detail), "%s", assay_err_detail());
	else
		snprintf(detail, sizeof(detail), "HTTP %d", status);
	delivery_done(d, err == ASSAY_OK && status >= 200 && status < 300,
	    detail);
}

static void
child_cb(evutil_socket_t fd, short what, void *arg)
{
	struct delivery *d = arg;
	struct timeval tv = { 0, CHILD_POLL_USEC };
	char detail[128];
	pid_t p;
	int st;

	p = waitpid(d->pid, &st, WNOHANG);
	if (p == 0 && clock_mono() < d->deadline) {
		evtimer_add(d->child_ev, &tv);
		return;
	}
	if (p == 0) {
		kill(-d->pid, SIGKILL);
		(void)waitpid(d->pid, &st, 0);
		d->pid = 0;
		snprintf(detail, sizeof(detail), "%s: killed after %ld s",
		    d->n->command, d->n->v->conf.notify_timeout);
		delivery_done(d, 0, detail);
		return;
	}
	d->pid = 0;
	if (p < 0)
		snprintf(detail, sizeof(detail), "waitpid: %s", strerror(errno));
	else if (WIFEXITED(st))
		snprintf(detail, sizeof(detail), "%s exited with %d",
		    d->n->command, WEXITSTATUS(st));
	else
		snprintf(detail, sizeof(detail), "%s killed by signal %d",
		    d->n->command, WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	delivery_done(d, p > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, detail);
}

/* ---- starting deliveries ----------------------------------------------- */

static int
start_webhook(struct delivery *d, const char *body)
{
	struct notify_url u;

	if (notify_url_parse(d->target, &u) != 0)
		return ASSAY_ERR_INVAL;
	return http_client_request(d->n->client, "POST", u.host, u.port, u.path,
	    "application/json", body, strlen(body),
	    (int)d->n->v->conf.notify_timeout, d->n->v->conf.notify_server_name,
	    webhook_cb, d);
}

/* fork+exec the hook: body on stdin, stdout and stderr to our log. */
static int
start_command(struct delivery *d, const struct store_event *ev,
    const char *body)
{
	struct timeval tv = { 0, CHILD_POLL_USEC };
	const char *path = d->n->command;
	char *env[7], *argv[2];
	struct sigaction sa;
	sigset_t none;
	int fds[2], r = ASSAY_OK;
	pid_t pid;

	env[0] = xstrdup("PATH=/usr/local/bin:/usr/bin:/bin");
	env[1] = xasprintf("ASSAY_AGENT=%s", ev->agent_id != NULL ?
	    ev->agent_id : "");
	env[2] = xasprintf("ASSAY_OLD_STATE=%s", ev->old_state != NULL ?
	    ev->old_state : "");
	env[3] = xasprintf("ASSAY_NEW_STATE=%s", ev->new_state != NULL ?
	    ev->new_state : "");
	env[4] = xasprintf("ASSAY_FAILURE_ID=%s", ev->failure_id != NULL ?
	    ev->failure_id : "");
	env[5] = xasprintf("ASSAY_EVENT_SEQ=%lld", (long long)ev->seq);
	env[6] = NULL;
	argv[0] = (char *)path;
	argv[1] = NULL;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&none);
	if (pipe2(fds, O_CLOEXEC) != 0) {
		r = assay_err_set(ASSAY_ERR_IO, "pipe: %s", strerror(errno));
		goto out;
	}
	if ((pid = fork()) < 0) {
		r = assay_err_set(ASSAY_ERR_IO, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		goto out;
	}
	if (pid == 0) {
		/* Child: async-signal-safe calls only until execve. */
		(void)setpgid(0, 0);
		(void)sigaction(SIGPIPE, &sa, NULL);
		(void)sigprocmask(SIG_SETMASK, &none, NULL);
		if (dup2(fds[0], 0) < 0 || dup2(2, 1) < 0)
			_exit(126);
		(void)close_range(3, ~0U, 0);
		execve(path, argv, env);
		_exit(127);
	}
	close(fds[0]);
	/* The body is a few KiB, under the pipe's capacity: no blocking. */
	if (write(fds[1], body, strlen(body)) < 0 && errno != EPIPE)
		log_warn("notify %s: writing the body", path);
	close(fds[1]);
	d->pid = pid;
	d->deadline = clock_mono() + (double)d->n->v->conf.notify_timeout;
	if ((d->child_ev = evtimer_new(d->n->v->base, child_cb, d)) == NULL)
		fatalx("evtimer_new failed");
	evtimer_add(d->child_ev, &tv);
 out:
	for (int i = 0; env[i] != NULL; i++)
		free(env[i]);
	return r;
}

static int
target_known(const struct notify *n, const char *t)
{
	for (size_t i = 0; i < n->ntargets; i++)
		if (strcmp(n->targets[i], t) == 0)
			return 1;
	return 0;
}

static void
start_one(struct notify *n, struct store_notification *q, int64_t now)
{
	struct delivery *d;
	char *body;
	int r;

	if (!target_known(n, q->target) || q->ev.type == NULL) {
		log_warnx("notify %s: dropping notification %lld (%s)", q->target,
		    (long long)q->id, q->ev.type == NULL ? "its event is gone" :
		    "target no longer configured");
		metrics_notify(n->v->metrics, 0, 1, 0);
		(void)store_notify_done(n->v->store, q->id);
		return;
	}
	/* Lease: if we die mid-delivery the row is due again after this. */
	if (store_notify_retry(n->v->store, q->id, now +
	    n->v->conf.notify_timeout + 5, q->attempts) != 0) {
		log_warnx("notify: %s", assay_err_detail());
		return;
	}
	d = xcalloc(1, sizeof(*d));
	d->n = n;
	d->id = q->id;
	d->created = q->created;
	d->attempts = q->attempts;
	d->target = xstrdup(q->target);
	d->next = n->busy;
	n->busy = d;
	n->inflight++;
	body = notify_body(&q->ev);
	if (strncmp(q->target, NOTIFY_CMD_PREFIX, strlen(NOTIFY_CMD_PREFIX)) == 0)
		r = start_command(d, &q->ev, body);
	else
		r = n->client != NULL ? start_webhook(d, body) : ASSAY_ERR_INVAL;
	free(body);
	if (r != ASSAY_OK)
		delivery_done(d, 0, assay_err_detail());
}

static void
run_cb(evutil_socket_t fd, short what, void *arg)
{
	struct notify *n = arg;
	struct store_notification *q = NULL;
	int64_t now = clock_unix(), cnt = 0, next = 0;
	struct timeval tv = { 1, 0 };
	size_t nq = 0;

	if (n->inflight < n->v->conf.notify_max_inflight) {
		if (store_notify_pending(n->v->store, now,
		    (size_t)(n->v->conf.notify_max_inflight - n->inflight), &q,
		    &nq) != 0)
			log_warnx("notify: %s", assay_err_detail());
		for (size_t i = 0; i < nq; i++) {
			start_one(n, &q[i], now);
			store_notification_free(&q[i]);
		}
		free(q);
	}
	/* Wake for the next row due (completions wake us too). */
	if (store_notify_count(n->v->store, &cnt, &next) != 0 || cnt == 0)
		return;
	if (next > now)
		tv.tv_sec = (time_t)(next - now);
	if (!evtimer_pending(n->timer, NULL))
		evtimer_add(n->timer, &tv);
}
