/*
 * http_client_pool.c — keep-alive for the HTTPS client (http_client.c).
 * After a complete response that leaves the connection open, the
 * connection is parked: at most one per client and (target host:port,
 * expected server CN) and at most max_idle in all (beyond: closed),
 * closed after an idle timeout shorter than the server's, as soon as the
 * server closes it, and with the client. The next request with the same
 * target and expected CN takes it over: the SSL's ex_data (creq_ssl_idx)
 * is rebound to that request, and the peer identity verified at the
 * connection's handshake (CN, role, verify result) carries over. A request
 * on a reused connection that fails before any byte of its response came
 * (the server had closed the connection meanwhile) is sent once more on a
 * fresh connection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "common/err.h"
#include "common/http.h"
#include "common/http_int.h"
#include "common/log.h"
#include "common/strmap.h"
#include "common/xmalloc.h"

struct http_idle {
	struct http_client		*c;
	char				*key;		/* in c->idle */
	struct evhttp_connection	*evcon;
	struct event			*ev;		/* idle timeout, or closed */
	struct tls_peer			 peer;		/* verified at handshake */
	long				 verify_result;
	int				 closed;	/* evhttp reset it */
};

/* The pool key of q's connection; the length keeps the parts apart. */
static char *
pool_key(const struct http_creq *q)
{
	return xasprintf("%zu:%s%c%s", strlen(q->target), q->target,
	    q->expect_cn != NULL ? '=' : '*',
	    q->expect_cn != NULL ? q->expect_cn : "");
}

static SSL *
evcon_ssl(struct evhttp_connection *evcon)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);

	return bev != NULL ? bufferevent_openssl_get_ssl(bev) : NULL;
}

/* Still on a socket: evhttp_connection_reset_ takes the fd away. */
static int
evcon_open(struct evhttp_connection *evcon)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);

	return bev != NULL && bufferevent_getfd(bev) != -1;
}

/* Not from inside an evhttp callback of i's connection. */
static void
idle_free(struct http_idle *i)
{
	if (i->evcon != NULL) {
		evhttp_connection_set_closecb(i->evcon, NULL, NULL);
		evhttp_connection_free(i->evcon);
	}
	event_free(i->ev);
	free(i->key);
	free(i);
}

/* Idle too long, or closed by the server (idle_close_cb): close it. */
static void
idle_expire_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_idle *i = arg;

	if (strmap_get(i->c->idle, i->key) == i)
		(void)strmap_del(i->c->idle, i->key);
	idle_free(i);
}

/*
 * evhttp reset the parked connection: the server closed it (or sent bytes
 * nobody asked for). Called from inside evhttp: free it from the loop.
 */
static void
idle_close_cb(struct evhttp_connection *evcon, void *arg)
{
	struct http_idle *i = arg;

	i->closed = 1;
	event_active(i->ev, EV_TIMEOUT, 1);
}

/* Counts the response bytes of a request on a reused connection. */
static void
creq_rx_cb(struct evbuffer *b, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct http_creq *q = arg;

	q->rx += info->n_added;
}

static void
creq_rx_unwatch(struct http_creq *q)
{
	struct bufferevent *bev;

	if (q->rx_cb != NULL && q->evcon != NULL &&
	    (bev = evhttp_connection_get_bufferevent(q->evcon)) != NULL)
		(void)evbuffer_remove_cb_entry(bufferevent_get_input(bev),
		    q->rx_cb);
	q->rx_cb = NULL;
}

int
creq_reuse(struct http_creq *q, const void *body, size_t len)
{
	struct http_client *c = q->c;
	struct http_idle *i;
	char *key;
	SSL *ssl;

	if (!c->keepalive)
		return 0;
	key = pool_key(q);
	i = strmap_del(c->idle, key);
	free(key);
	if (i == NULL)
		return 0;
	if (i->closed || !evcon_open(i->evcon) ||
	    (ssl = evcon_ssl(i->evcon)) == NULL) {
		idle_free(i);
		return 0;
	}
	q->evcon = i->evcon;
	i->evcon = NULL;
	evhttp_connection_set_closecb(q->evcon, NULL, NULL);
	SSL_set_ex_data(ssl, creq_ssl_idx, q);
	snprintf(q->peer_cn, sizeof(q->peer_cn), "%s", i->peer.cn);
	q->peer_role = i->peer.role;
	q->verify_result = i->verify_result;
	q->hs_done = 1;		/* done at its handshake; not counted again */
	q->reused = 1;
	idle_free(i);
	/* This request's limits on the connection. */
	evhttp_connection_set_timeout(q->evcon, q->timeout + 1);
	evhttp_connection_set_max_body_size(q->evcon, (ev_ssize_t)q->max_body);
	if ((q->rx_cb = evbuffer_add_cb(bufferevent_get_input(
	    evhttp_connection_get_bufferevent(q->evcon)), creq_rx_cb, q)) == NULL)
		fatalx("evbuffer_add_cb");
	/* Kept for one retry on a fresh connection. */
	q->req_body = len > 0 ? xmemdup(body, len) : NULL;
	q->req_len = len;
	c->n_reused++;
	return 1;
}

/*
 * q's response is complete: its connection may serve the next request
 * unless the server ends it ("Connection: close", or a body that runs to
 * the end of the connection).
 */
void
creq_mark_park(struct http_creq *q, struct evhttp_request *req)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	const char *v;
	int st = evhttp_request_get_response_code(req);

	if (!q->c->keepalive)
		return;
	if ((v = evhttp_find_header(h, "Connection")) != NULL &&
	    strcasestr(v, "close") != NULL)
		return;
	if (evhttp_find_header(h, "Content-Length") == NULL &&
	    ((v = evhttp_find_header(h, "Transfer-Encoding")) == NULL ||
	    strcasecmp(v, "chunked") != 0) && st != 204 && st != 304 &&
	    q->cmd != EVHTTP_REQ_HEAD)
		return;
	q->park = 1;
}

/* Park evcon, whose request q just completed; 0, or -1 if it cannot be. */
static int
pool_put(struct http_creq *q, struct evhttp_connection *evcon)
{
	struct http_client *c = q->c;
	struct http_idle *i, *old;
	struct tls_peer peer;
	int need;
	SSL *ssl;

	/* The identity the handshake verified, once more. */
	if (!evcon_open(evcon) || (ssl = evcon_ssl(evcon)) == NULL ||
	    SSL_get_verify_result(ssl) != X509_V_OK ||
	    tls_peer_identity(ssl, &peer) != ASSAY_OK ||
	    (q->expect_cn != NULL && strcmp(peer.cn, q->expect_cn) != 0)) {
		ERR_clear_error();
		return -1;
	}
	need = tls_ctx_server_role(SSL_get_SSL_CTX(ssl));
	if (need != ROLE_NONE && (peer.role & need) == 0)
		return -1;
	/* At the cap: closed, and the ones parked stay (no churn). */
	if (c->max_idle > 0 && strmap_count(c->idle) >= c->max_idle)
		return -1;
	i = xcalloc(1, sizeof(*i));
	i->c = c;
	i->key = pool_key(q);
	i->evcon = evcon;
	i->peer = peer;
	i->verify_result = X509_V_OK;
	if ((i->ev = evtimer_new(c->base, idle_expire_cb, i)) == NULL)
		fatalx("evtimer_new");
	SSL_set_ex_data(ssl, creq_ssl_idx, NULL);	/* q goes now */
	evhttp_connection_set_closecb(evcon, idle_close_cb, i);
	evtimer_add(i->ev, &c->idle_tv);
	/* One per key: a newer connection replaces an older one. */
	if ((old = strmap_put(c->idle, i->key, i)) != NULL)
		idle_free(old);
	return 0;
}

void
creq_release_conn(struct http_creq *q)
{
	struct evhttp_connection *evcon = q->evcon;

	if (evcon == NULL)
		return;
	creq_rx_unwatch(q);
	q->evcon = NULL;
	if (!q->park || !q->finished || q->err != ASSAY_OK ||
	    !q->c->keepalive || pool_put(q, evcon) != 0)
		evhttp_connection_free(evcon);
}

int
creq_retry_later(struct http_creq *q)
{
	if (!q->reused || q->retried || q->finished || q->rx > 0 ||
	    q->cn_mismatch || q->role_mismatch ||
	    (q->req_error != EVREQ_HTTP_EOF + 1 &&
	    q->req_error != EVREQ_HTTP_BUFFER_ERROR + 1))
		return 0;
	q->retry_due = 1;
	/* Deferred: the connection is freed outside its evhttp callbacks. */
	event_active(q->done_ev, EV_TIMEOUT, 1);
	return 1;
}

/* The server had closed q's reused connection: once more, on a fresh one. */
void
creq_retry(struct http_creq *q)
{
	q->retry_due = 0;
	q->retried = 1;
	q->reused = 0;
	q->c->n_retried++;
	log_debug("http: %s had closed the idle connection; sending again",
	    q->target);
	creq_rx_unwatch(q);
	evhttp_connection_free(q->evcon);
	q->evcon = NULL;
	q->hs_done = q->req_error = q->sock_err = 0;
	q->ssl_err = 0;
	q->verify_result = X509_V_OK;
	q->peer_cn[0] = '\0';
	q->peer_role = ROLE_NONE;
	q->rx = 0;
	ERR_clear_error();
	if (creq_connect(q) != 0) {
		snprintf(q->detail, sizeof(q->detail), "%s: %s", q->target,
		    assay_err_detail());
		creq_finish(q, ASSAY_ERR_NET);
		return;
	}
	creq_send(q, q->req_body, q->req_len);
	free(q->req_body);
	q->req_body = NULL;
	q->req_len = 0;
}

/* Close every parked connection. */
void
pool_flush(struct http_client *c)
{
	const char *key;
	void *val;
	size_t pos = 0;

	if (strmap_count(c->idle) == 0)
		return;
	while (strmap_next(c->idle, &pos, &key, &val))
		idle_free(val);
	strmap_free(c->idle);
	c->idle = strmap_new();
}

void
http_client_set_keepalive(struct http_client *c, int on)
{
	const char *no = getenv("ASSAY_HTTP_NO_KEEPALIVE");

	/* The environment can say no (a balancer that wants one per request). */
	c->keepalive = on != 0 && (no == NULL || strcmp(no, "1") != 0);
	if (!c->keepalive)
		pool_flush(c);
}

void
http_client_set_max_idle(struct http_client *c, size_t n)
{
	c->max_idle = n;
}

void
http_client_set_idle_timeout_ms(struct http_client *c, long ms)
{
	if (ms <= 0)
		ms = HTTP_CLIENT_IDLE_SEC * 1000L;
	c->idle_tv.tv_sec = ms / 1000;
	c->idle_tv.tv_usec = (ms % 1000) * 1000;
}

void
http_client_keepalive_stats(const struct http_client *c, uint64_t *reused,
    uint64_t *retried, size_t *idle)
{
	*reused = c->n_reused;
	*retried = c->n_retried;
	*idle = strmap_count(c->idle);
}
