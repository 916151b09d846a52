/*
 * http_conn.c — connection accounting for the HTTPS server (http.c): the
 * per-connection guard hung off each SSL, its admission (overall cap,
 * per-address cap, unauthenticated share with eviction of the oldest),
 * the TLS handshake and request deadlines, and the bufferevent callback
 * that makes the TLS connection. The request-header guard is
 * http_guard.c.
 */
#include <sys/queue.h>

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>

#include "common/err.h"
#include "common/http.h"
#include "common/http_int.h"
#include "common/log.h"
#include "common/strmap.h"
#include "common/xmalloc.h"

pthread_once_t conn_idx_once = PTHREAD_ONCE_INIT;
static int conn_idx = -1;

/* Give back whatever c counts against (idempotent). */
static void
conn_uncount(struct http_conn *c)
{
	struct http_server *s = c->s;
	uintptr_t n;

	if (s == NULL)
		return;
	if (c->counted)
		s->nconns--;
	if (c->unauth)
		s->nunauth--;
	c->counted = c->unauth = 0;
	if (c->addr != NULL) {
		n = (uintptr_t)strmap_get(s->per_addr, c->addr);
		if (n <= 1)
			(void)strmap_del(s->per_addr, c->addr);
		else
			(void)strmap_put(s->per_addr, c->addr, (void *)(n - 1));
		free(c->addr);
		c->addr = NULL;
	}
}

void
conn_unlink(struct http_conn *c)
{
	free(c->hdr);
	c->hdr = NULL;
	if (c->s == NULL)
		return;
	conn_uncount(c);
	TAILQ_REMOVE(&c->s->conns, c, entry);
	event_free(c->ev);
	c->ev = NULL;
	c->s = NULL;
}

/* ex_data free callback: the SSL, so the connection, is gone. */
static void
conn_ssl_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	struct http_conn *c = ptr;

	(void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
	if (c == NULL)
		return;
	conn_unlink(c);
	if (c->refs > 0) {
		c->gone = 1;	/* a held request still points here */
		return;
	}
	free(c);
}

void
conn_idx_init(void)
{
	conn_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, conn_ssl_free);
	if (conn_idx < 0)
		fatalx("SSL_get_ex_new_index");
}

struct http_conn *
conn_of_ssl(SSL *ssl)
{
	return ssl != NULL && conn_idx >= 0 ? SSL_get_ex_data(ssl, conn_idx) :
	    NULL;
}

/*
 * The evhttp connection still using c's bufferevent, or NULL (the
 * callback argument is NULL once the bufferevent was freed; it is c while
 * a refused request lingers).
 */
struct evhttp_connection *
conn_evcon(struct http_conn *c)
{
	void *arg = NULL;

	bufferevent_getcb(c->bev, NULL, NULL, NULL, &arg);
	if (arg == c)
		return c->evcon;
	return arg;
}

/* A request on ssl's connection will be answered later (http_defer). */
struct http_conn *
conn_hold(SSL *ssl, uint64_t *serial)
{
	struct http_conn *c = conn_of_ssl(ssl);

	*serial = 0;
	if (c == NULL || c->s == NULL)
		return NULL;
	c->held = 1;
	c->refs++;
	*serial = c->serial;
	return c;
}

void
conn_unref(struct http_conn *c)
{
	if (c == NULL)
		return;
	if (c->refs > 0 && --c->refs == 0)
		c->held = 0;
	if (c->gone && c->refs == 0)
		free(c);
}

/*
 * The held request of connection c is answered: 1 if its evhttp
 * connection is still evcon and open. A held request keeps c allocated
 * (refs), so c is valid here even after its connection went; O(1).
 */
int
conn_release(struct http_server *s, struct http_conn *c, uint64_t serial,
    struct evhttp_connection *evcon)
{
	int open;

	if (c == NULL)
		return 0;
	open = evcon != NULL && !c->gone && c->s == s && c->serial == serial &&
	    c->phase == PH_OPEN && conn_evcon(c) == evcon;
	conn_unref(c);
	return open;
}

void
conn_arm(struct http_conn *c)
{
	struct timeval tv = { c->s->deadline, 0 };

	c->busy = 1;
	evtimer_add(c->ev, &tv);
}

/* Close c from its own event, in this loop pass; its slots are free now. */
static void
conn_close_soon(struct http_conn *c)
{
	conn_uncount(c);
	c->phase = PH_CLOSE;
	evtimer_del(c->ev);
	event_active(c->ev, EV_TIMEOUT, 0);
}

static int
conn_hs_deadline(const struct http_server *s)
{
	return s->hs_deadline < s->deadline ? s->hs_deadline : s->deadline;
}

static int
conn_max_unauth(const struct http_server *s)
{
	int m = s->max_unauth > 0 ? s->max_unauth : s->max_conns / 4;

	if (m > s->max_conns)
		m = s->max_conns;
	return m > 0 ? m : 1;
}

static void
conn_log_rate(time_t *logged, unsigned long *count, const char *fmt, int a,
    int b)
{
	time_t now = time(NULL);

	(*count)++;
	if (*logged != 0 && now - *logged < 10)
		return;
	log_warnx(fmt, a, b, *count);
	*logged = now;
	*count = 0;
}

static void conn_admit(struct http_conn *, struct evhttp_connection *);

static void
conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *c = arg;
	struct evhttp_connection *evcon;
	char *addr = NULL;
	ev_uint16_t port = 0;

	(void)fd; (void)what;
	if ((evcon = conn_evcon(c)) == NULL)
		return;
	switch (c->phase) {
	case PH_NEW:
		conn_admit(c, evcon);
		return;
	case PH_CLOSE:
	case PH_LINGER:
		evhttp_connection_free(evcon);
		return;
	case PH_HANDSHAKE:
		evhttp_connection_get_peer(evcon, &addr, &port);
		log_info("http: %s port %u completed no TLS handshake in %d s, "
		    "closing", addr != NULL ? addr : "?", (unsigned)port,
		    conn_hs_deadline(c->s));
		evhttp_connection_free(evcon);
		return;
	case PH_OPEN:
		if (c->held) {
			/* a pipelined request waits for the held reply */
			conn_arm(c);
			return;
		}
		evhttp_connection_get_peer(evcon, &addr, &port);
		log_info("http: %s port %u sent no complete request in %d s, "
		    "closing", addr != NULL ? addr : "?", (unsigned)port,
		    c->s->deadline);
		evhttp_connection_free(evcon);
		return;
	}
}

/* The handshake of c's SSL completed: the peer is verified. */
static void
conn_ssl_info_cb(const SSL *ssl, int where, int ret)
{
	struct http_conn *c;
	struct tls_peer peer;
	struct timeval now, tv;
	long ms;

	(void)ret;
	if ((where & SSL_CB_HANDSHAKE_DONE) == 0 ||
	    (c = SSL_get_ex_data(ssl, conn_idx)) == NULL || c->s == NULL ||
	    c->phase != PH_HANDSHAKE)
		return;
	c->phase = PH_OPEN;
	/*
	 * A certificate no route accepts (say another host's agent
	 * certificate on an agent) stays in the evictable pool: it gets its
	 * 403s, but cannot hold the slots of the peers the server is for.
	 */
	if (c->unauth && tls_peer_identity((SSL *)ssl, &peer) == ASSAY_OK &&
	    (peer.role & c->s->any_roles) != 0) {
		c->unauth = 0;
		c->s->nunauth--;
	}
	/* The first request's clock still runs from accept. */
	event_base_gettimeofday_cached(c->s->base, &now);
	ms = (long)c->s->deadline * 1000 -
	    ((now.tv_sec - c->accepted.tv_sec) * 1000 +
	    (now.tv_usec - c->accepted.tv_usec) / 1000);
	if (ms < 1)
		ms = 1;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(c->ev, &tv);
}

/*
 * Admission, right after evhttp adopted the socket and before any TLS:
 * the per-address cap, then room for one more connection in its
 * handshake (evicting the oldest such one), then the overall cap.
 */
static void
conn_admit(struct http_conn *c, struct evhttp_connection *evcon)
{
	struct http_server *s = c->s;
	struct http_conn *o;
	struct timeval tv = { conn_hs_deadline(s), 0 };
	char *addr = NULL;
	ev_uint16_t port = 0;
	uintptr_t n;

	c->evcon = evcon;
	evhttp_connection_get_peer(evcon, &addr, &port);
	if (addr == NULL)
		addr = "?";
	n = (uintptr_t)strmap_get(s->per_addr, addr);
	if (n >= (uintptr_t)s->max_per_addr) {
		log_debug("http: %s has %lu connections open, refused", addr,
		    (unsigned long)n);
		conn_log_rate(&s->addr_logged, &s->addr_rejected,
		    "http: an address had %d connections open (its limit), "
		    "%d in all: refused %lu", s->max_per_addr, s->nconns);
		c->phase = PH_CLOSE;
		evhttp_connection_free(evcon);
		return;
	}
	/* Unauthenticated connections never hold more than their share. */
	while (s->nunauth > 0 && (s->nunauth >= conn_max_unauth(s) ||
	    s->nconns >= s->max_conns)) {
		TAILQ_FOREACH(o, &s->conns, entry)
			if (o->unauth)
				break;
		if (o == NULL)
			break;
		conn_log_rate(&s->evict_logged, &s->evicted,
		    "http: %d connections unauthenticated (max %d): "
		    "closed the oldest, %lu in all", s->nunauth,
		    conn_max_unauth(s));
		conn_close_soon(o);
	}
	if (s->nconns >= s->max_conns) {
		conn_log_rate(&s->reject_logged, &s->rejected,
		    "http: %d connections open (max %d): refused %lu",
		    s->nconns, s->max_conns);
		c->phase = PH_CLOSE;
		evhttp_connection_free(evcon);
		return;
	}
	c->addr = xstrdup(addr);
	(void)strmap_put(s->per_addr, addr, (void *)(n + 1));
	c->counted = 1;
	s->nconns++;
	c->unauth = 1;
	s->nunauth++;
	c->phase = PH_HANDSHAKE;
	c->busy = 1;		/* the first request's clock runs from accept */
	evtimer_add(c->ev, &tv);
}

struct bufferevent *
server_bevcb(struct event_base *base, void *arg)
{
	struct http_server *s = arg;
	struct bufferevent *bev;
	struct http_conn *c;
	SSL *ssl;

	/*
	 * Called by evhttp right after accept, before it sets the socket.
	 * If this fails evhttp falls back to a plain socket; every route
	 * then answers 403 because there is no TLS peer identity.
	 */
	if ((ssl = SSL_new(s->ctx)) == NULL) {
		ERR_clear_error();
		return NULL;
	}
	bev = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);

	c = xcalloc(1, sizeof(*c));
	c->s = s;
	c->serial = ++s->next_serial;
	c->bev = bev;
	c->phase = PH_NEW;
	event_base_gettimeofday_cached(base, &c->accepted);
	if ((c->ev = evtimer_new(base, conn_timer_cb, c)) == NULL)
		fatalx("evtimer_new");
	if (SSL_set_ex_data(ssl, conn_idx, c) != 1)
		fatalx("SSL_set_ex_data");
	SSL_set_info_callback(ssl, conn_ssl_info_cb);
	TAILQ_INSERT_TAIL(&s->conns, c, entry);
	if (evbuffer_add_cb(bufferevent_get_input(bev), conn_input_cb,
	    c) == NULL)
		fatalx("evbuffer_add_cb");
	/*
	 * Admission needs the peer address, known once evhttp has adopted
	 * the socket. An activated event runs in this same loop pass,
	 * before any I/O on the new socket, so a refused one does no TLS.
	 */
	event_active(c->ev, EV_TIMEOUT, 0);
	return bev;
}
