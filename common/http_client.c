/*
 * http_client.c — the HTTPS client half of common/http.h: a connection
 * per request (or a parked one, with keep-alive: http_client_pool.c), the
 * server certificate CN checked during the handshake, completion delivered
 * exactly once and deferred on the loop thread, failures mapped to
 * NET/TIMEOUT/PERM, a response body limit per request. (The blocking
 * wrapper and host:port parsing are http_sync.c.)
 * TLS sessions are cached per host:port (tls_sessions.c) and offered
 * again (resumption skips the ECDHE + chain verification of a full
 * handshake); a resumed session's peer certificate is checked against the
 * expected CN just as a full handshake's is.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "common/err.h"
#include "common/proto/doc.h"
#include "common/http.h"
#include "common/http_int.h"
#include "common/log.h"
#include "common/strmap.h"
#include "common/tls_sessions.h"
#include "common/xmalloc.h"

/*
 * The response body limit (HTTP_CLIENT_MAX_BODY, 64 MiB) holds the largest
 * evidence document: a full IMA page plus the event log (doc.h).
 */
_Static_assert(DOC_MAX_SIZE <= HTTP_CLIENT_MAX_BODY,
    "an evidence document must fit the client's response body limit");


int creq_ssl_idx = -1;
static pthread_once_t creq_ssl_once = PTHREAD_ONCE_INIT;

static void
creq_ssl_idx_init(void)
{
	creq_ssl_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/*
 * The server certificate x against the role the client context requires
 * (tls_ctx_server_role): 0 if it has it, else q->role_mismatch is set.
 */
static int
client_check_role(struct http_creq *q, const SSL *ssl, X509 *x)
{
	struct tls_peer peer;
	int need = tls_ctx_server_role(SSL_get_SSL_CTX(ssl));

	if (need == ROLE_NONE)
		return 0;
	if (x != NULL && tls_x509_identity(x, &peer) == ASSAY_OK &&
	    (peer.role & need) != 0)
		return 0;
	q->role_mismatch = need;
	q->peer_role = x != NULL ? peer.role : ROLE_NONE;
	if (x != NULL)
		snprintf(q->peer_cn, sizeof(q->peer_cn), "%s", peer.cn);
	return -1;
}

/* Runs for each certificate of the server's chain; checks the leaf CN and role. */
static int
client_verify_cb(int ok, X509_STORE_CTX *xs)
{
	struct http_creq *q;
	struct tls_peer peer;
	SSL *ssl;
	X509 *x;

	ssl = X509_STORE_CTX_get_ex_data(xs,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	if (!ok || ssl == NULL || creq_ssl_idx < 0 ||
	    (q = SSL_get_ex_data(ssl, creq_ssl_idx)) == NULL ||
	    X509_STORE_CTX_get_error_depth(xs) != 0)
		return ok;
	if (client_check_role(q, ssl, X509_STORE_CTX_get_current_cert(xs)) != 0) {
		X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	if (q->expect_cn == NULL)
		return ok;
	if ((x = X509_STORE_CTX_get_current_cert(xs)) == NULL ||
	    tls_x509_identity(x, &peer) != ASSAY_OK ||
	    strcmp(peer.cn, q->expect_cn) != 0) {
		q->cn_mismatch = 1;
		if (x != NULL)
			snprintf(q->peer_cn, sizeof(q->peer_cn), "%s", peer.cn);
		X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	return 1;
}

/*
 * New session from a handshake (TLS 1.2) or a NewSessionTicket that came
 * after it (TLS 1.3). Only sessions of verified peers whose CN matched.
 * A copy is kept: OpenSSL marks the connection's own session object not
 * resumable when the connection is freed without a close_notify.
 */
static int
client_new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
	struct http_creq *q;
	SSL_SESSION *copy;

	if (creq_ssl_idx < 0 || (q = SSL_get_ex_data(ssl, creq_ssl_idx)) == NULL ||
	    q->c == NULL || !q->c->resume || q->cn_mismatch || q->role_mismatch ||
	    (q->finished && q->err != ASSAY_OK) ||
	    SSL_get_verify_result(ssl) != X509_V_OK ||
	    !SSL_SESSION_is_resumable(sess) ||
	    (copy = SSL_SESSION_dup(sess)) == NULL) {
		ERR_clear_error();
		return 0;
	}
	tls_sessions_keep(q->c->sessions, q->target, copy);
	return 0;	/* sess itself stays OpenSSL's */
}

void
creq_finish(struct http_creq *q, int err)
{
	if (q->finished)
		return;
	q->finished = 1;
	q->err = err;
	if (err != ASSAY_OK)
		tls_sessions_drop(q->c->sessions, q->target);
	evtimer_del(q->timer);
	/* Deliver from the loop, never from inside an evhttp callback. */
	event_active(q->done_ev, EV_TIMEOUT, 1);
}

static void
creq_fail(struct http_creq *q)
{
	char ssl_msg[160] = "";
	int err = ASSAY_ERR_NET;

	if (creq_retry_later(q))
		return;		/* a parked connection the server had closed */
	if (q->ssl_err != 0)
		ERR_error_string_n(q->ssl_err, ssl_msg, sizeof(ssl_msg));
	if (q->role_mismatch) {
		err = ASSAY_ERR_PERM;
		snprintf(q->detail, sizeof(q->detail),
		    "%s: server certificate \"%s\" has role %s, not %s",
		    q->target, q->peer_cn, tls_role_name(q->peer_role),
		    tls_role_name(q->role_mismatch));
	} else if (q->cn_mismatch) {
		err = ASSAY_ERR_PERM;
		snprintf(q->detail, sizeof(q->detail),
		    "%s: server certificate CN \"%s\" is not \"%s\"",
		    q->target, q->peer_cn, q->expect_cn);
	} else if (q->req_error == EVREQ_HTTP_DATA_TOO_LONG + 1) {
		snprintf(q->detail, sizeof(q->detail), "%s: response over the "
		    "%zu bytes this request allows", q->target, q->max_body);
	} else if (q->req_error == EVREQ_HTTP_TIMEOUT + 1) {
		err = ASSAY_ERR_TIMEOUT;
		snprintf(q->detail, sizeof(q->detail),
		    "%s: no response within %d s", q->target, q->timeout);
	} else if (q->verify_result != X509_V_OK) {
		snprintf(q->detail, sizeof(q->detail),
		    "%s: server certificate: %s", q->target,
		    X509_verify_cert_error_string(q->verify_result));
	} else if (ssl_msg[0] != '\0' && ERR_GET_LIB(q->ssl_err) != 0) {
		snprintf(q->detail, sizeof(q->detail), "%s: TLS: %s",
		    q->target, ssl_msg);
	} else if (q->sock_err != 0) {
		snprintf(q->detail, sizeof(q->detail), "%s: %s",
		    q->target, strerror(q->sock_err));
	} else {
		snprintf(q->detail, sizeof(q->detail),
		    "%s: connection refused, reset or closed before a response",
		    q->target);
	}
	creq_finish(q, err);
}

/*
 * End of a handshake. The verify callback does not run when a session is
 * resumed: check the peer certificate the session carries (the server
 * proved it holds that session) against the expected CN and its validity.
 */
static void
client_info_cb(const SSL *ssl, int where, int ret)
{
	struct http_creq *q;
	struct tls_peer peer;
	X509 *x;

	if ((where & SSL_CB_HANDSHAKE_DONE) == 0 || creq_ssl_idx < 0 ||
	    (q = SSL_get_ex_data(ssl, creq_ssl_idx)) == NULL || q->hs_done)
		return;
	q->hs_done = 1;		/* TLS 1.3 signals DONE again after tickets */
	q->c->n_handshakes++;
	if (!SSL_session_reused(ssl))
		return;
	q->c->n_resumed++;
	if ((x = SSL_get0_peer_certificate(ssl)) == NULL ||
	    SSL_get_verify_result(ssl) != X509_V_OK) {
		q->verify_result = x == NULL ? X509_V_ERR_UNSPECIFIED :
		    SSL_get_verify_result(ssl);
		creq_fail(q);
		return;
	}
	if (X509_cmp_current_time(X509_get0_notAfter(x)) <= 0) {
		q->verify_result = X509_V_ERR_CERT_HAS_EXPIRED;
		creq_fail(q);
		return;
	}
	if (client_check_role(q, ssl, x) != 0) {
		creq_fail(q);	/* the response, if any, is never delivered */
		return;
	}
	if (q->expect_cn != NULL && (tls_x509_identity(x, &peer) != ASSAY_OK ||
	    strcmp(peer.cn, q->expect_cn) != 0)) {
		q->cn_mismatch = 1;
		snprintf(q->peer_cn, sizeof(q->peer_cn), "%s", peer.cn);
		creq_fail(q);	/* the response, if any, is never delivered */
	}
}

static void
client_err_cb(enum evhttp_request_error e, void *arg)
{
	struct http_creq *q = arg;
	struct bufferevent *bev;
	unsigned long se;
	SSL *ssl;

	q->req_error = (int)e + 1;
	q->sock_err = EVUTIL_SOCKET_ERROR();
	if (q->evcon == NULL ||
	    (bev = evhttp_connection_get_bufferevent(q->evcon)) == NULL)
		return;
	/* Keep the first error that names a library (the root cause). */
	while ((se = bufferevent_get_openssl_error(bev)) != 0) {
		if (q->ssl_err == 0 || (ERR_GET_LIB(q->ssl_err) == 0 &&
		    ERR_GET_LIB(se) != 0))
			q->ssl_err = se;
	}
	if ((ssl = bufferevent_openssl_get_ssl(bev)) != NULL)
		q->verify_result = SSL_get_verify_result(ssl);
}

/* Fallback when no new-session callback stored one (it normally has). */
static void
client_keep_session(struct http_creq *q)
{
	struct bufferevent *bev;
	SSL_SESSION *sess;
	SSL *ssl;

	if (q->evcon == NULL || q->cn_mismatch || q->role_mismatch ||
	    (bev = evhttp_connection_get_bufferevent(q->evcon)) == NULL ||
	    (ssl = bufferevent_openssl_get_ssl(bev)) == NULL ||
	    SSL_get_verify_result(ssl) != X509_V_OK ||
	    (sess = SSL_get0_session(ssl)) == NULL ||
	    !SSL_SESSION_is_resumable(sess) ||
	    (sess = SSL_SESSION_dup(sess)) == NULL) {
		ERR_clear_error();
		return;
	}
	tls_sessions_keep(q->c->sessions, q->target, sess);
}

/* Retry-After in delay-seconds form (0..86400); 0 when absent or a date. */
static int
retry_after_of(struct evhttp_request *req)
{
	const char *v = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Retry-After");
	long n = 0;

	if (v == NULL)
		return 0;
	for (; *v >= '0' && *v <= '9' && n <= 86400; v++)
		n = n * 10 + (*v - '0');
	return *v == '\0' && n <= 86400 ? (int)n : 0;
}

static void
client_req_cb(struct evhttp_request *req, void *arg)
{
	struct http_creq *q = arg;
	struct evbuffer *in;
	size_t len;

	if (q->finished)
		return;
	if (req == NULL || evhttp_request_get_response_code(req) == 0) {
		creq_fail(q);
		return;
	}
	if (q->c->resume && !tls_sessions_has(q->c->sessions, q->target))
		client_keep_session(q);
	in = evhttp_request_get_input_buffer(req);
	len = evbuffer_get_length(in);
	q->body = xmalloc(len + 1);
	if (len > 0 && evbuffer_copyout(in, q->body, len) != (ev_ssize_t)len) {
		snprintf(q->detail, sizeof(q->detail), "%s: cannot read body",
		    q->target);
		creq_finish(q, ASSAY_ERR_NET);
		return;
	}
	q->body[len] = '\0';
	q->len = len;
	q->status = evhttp_request_get_response_code(req);
	q->retry_after = retry_after_of(req);
	creq_mark_park(q, req);
	creq_finish(q, ASSAY_OK);
}

static void
client_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_creq *q = arg;

	snprintf(q->detail, sizeof(q->detail), "%s: no response within %d s",
	    q->target, q->timeout);
	creq_finish(q, ASSAY_ERR_TIMEOUT);
}

static void
creq_free(struct http_creq *q)
{
	if (q->evcon != NULL)
		evhttp_connection_free(q->evcon);
	if (q->done_ev != NULL)
		event_free(q->done_ev);
	if (q->timer != NULL)
		event_free(q->timer);
	free(q->expect_cn);
	free(q->path);
	free(q->ctype);
	free(q->req_body);
	free(q->body);
	free(q);
}

/* The request whose completion callback runs on this thread, if any. */
static __thread struct http_creq *delivering;

uint8_t *
http_client_body_take(const uint8_t *body)
{
	uint8_t *b;

	if (delivering == NULL || body == NULL || body != delivering->body)
		return NULL;
	b = delivering->body;
	delivering->body = NULL;
	return b;
}

int
http_client_retry_after(void)
{
	return delivering != NULL ? delivering->retry_after : 0;
}

static void
client_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_creq *q = arg;

	if (!q->finished && q->retry_due) {
		creq_retry(q);
		return;
	}
	TAILQ_REMOVE(&q->c->reqs, q, entry);
	/* Not inside any evhttp callback of this connection now. */
	creq_release_conn(q);	/* parked, for the next request, or closed */
	ERR_clear_error();
	if (q->err != ASSAY_OK) {
		assay_err_set(q->err, "%s", q->detail);
		q->cb(q->err, 0, NULL, 0, q->arg);
	} else {
		delivering = q;
		q->cb(ASSAY_OK, q->status, q->body, q->len, q->arg);
		delivering = NULL;
	}
	creq_free(q);
}

struct http_client *
http_client_new(struct event_base *base, SSL_CTX *ctx)
{
	struct http_client *c;

	http_ignore_sigpipe();
	pthread_once(&creq_ssl_once, creq_ssl_idx_init);
	c = xcalloc(1, sizeof(*c));
	c->base = base;
	SSL_CTX_up_ref(ctx);
	c->ctx = ctx;
	TAILQ_INIT(&c->reqs);
	c->sessions = tls_sessions_new();
	c->idle = strmap_new();
	http_client_set_idle_timeout_ms(c, 0);
	http_client_set_resumption(c,
	    getenv("ASSAY_TLS_NO_RESUME") == NULL ||
	    strcmp(getenv("ASSAY_TLS_NO_RESUME"), "1") != 0);
	return c;
}

void
http_client_set_dns(struct http_client *c, struct evdns_base *dns)
{
	c->dns = dns;
}

void
http_client_set_resumption(struct http_client *c, int on)
{
	c->resume = on != 0;
	if (!c->resume) {
		tls_sessions_clear(c->sessions);
		return;
	}
	/*
	 * The callback is per context: it finds its client through the
	 * connection, and ignores connections that are not ours.
	 */
	if (SSL_CTX_sess_get_new_cb(c->ctx) != client_new_session_cb) {
		SSL_CTX_set_session_cache_mode(c->ctx, SSL_SESS_CACHE_CLIENT |
		    SSL_SESS_CACHE_NO_INTERNAL_STORE);
		SSL_CTX_sess_set_new_cb(c->ctx, client_new_session_cb);
	}
}

void
http_client_tls_stats(const struct http_client *c, uint64_t *handshakes,
    uint64_t *resumed, size_t *cached)
{
	*handshakes = c->n_handshakes;
	*resumed = c->n_resumed;
	*cached = tls_sessions_count(c->sessions);
}

void
http_client_free(struct http_client *c)
{
	struct http_creq *q;

	if (c == NULL)
		return;
	while ((q = TAILQ_FIRST(&c->reqs)) != NULL) {
		TAILQ_REMOVE(&c->reqs, q, entry);
		creq_free(q);
	}
	pool_flush(c);
	strmap_free(c->idle);
	tls_sessions_free(c->sessions);
	SSL_CTX_free(c->ctx);
	free(c);
}

static int
is_ip_literal(const char *host)
{
	struct in6_addr a6;

	return inet_pton(AF_INET, host, &a6) == 1 ||
	    inet_pton(AF_INET6, host, &a6) == 1;
}

/* The TLS side of a new request to target: SNI, a session to resume. */
static int
client_ssl_new(struct http_client *c, const char *host, const char *target,
    SSL **out)
{
	SSL_SESSION *sess;
	SSL *ssl;

	if ((ssl = SSL_new(c->ctx)) == NULL) {
		ERR_clear_error();
		return assay_err_set(ASSAY_ERR_CRYPTO, "SSL_new failed");
	}
	if (!is_ip_literal(host) && SSL_set_tlsext_host_name(ssl, host) != 1) {
		SSL_free(ssl);
		ERR_clear_error();
		return assay_err_set(ASSAY_ERR_INVAL, "bad host name %s", host);
	}
	if (c->resume && (sess = tls_sessions_get(c->sessions, target)) != NULL) {
		if (SSL_set_session(ssl, sess) != 1) {
			ERR_clear_error();
			tls_sessions_drop(c->sessions, target);
		}
		SSL_SESSION_free(sess);		/* ssl holds its own reference */
	}
	*out = ssl;
	return ASSAY_OK;
}

/* q's evhttp connection over a new TLS bufferevent; 0 or an error. */
int
creq_connect(struct http_creq *q)
{
	struct http_client *c = q->c;
	struct bufferevent *bev;
	SSL *ssl = NULL;
	int r;

	if ((r = client_ssl_new(c, q->host, q->target, &ssl)) != 0)
		return r;
	bev = bufferevent_openssl_socket_new(c->base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL) {
		SSL_free(ssl);
		return assay_err_set(ASSAY_ERR_NET, "bufferevent_openssl failed");
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	SSL_set_ex_data(ssl, creq_ssl_idx, q);
	SSL_set_verify(ssl, SSL_VERIFY_PEER, client_verify_cb);
	SSL_set_info_callback(ssl, client_info_cb);
	/* With a resolver, host names never block the event loop. */
	if ((q->evcon = evhttp_connection_base_bufferevent_new(c->base, c->dns,
	    bev, q->host, q->port)) == NULL) {
		bufferevent_free(bev);
		return assay_err_set(ASSAY_ERR_NET, "evhttp connection failed");
	}
	/* Our timer is the deadline; evhttp's own one is a backstop. */
	evhttp_connection_set_timeout(q->evcon, q->timeout + 1);
	evhttp_connection_set_retries(q->evcon, 0);
	evhttp_connection_set_max_body_size(q->evcon, (ev_ssize_t)q->max_body);
	evhttp_connection_set_max_headers_size(q->evcon, HTTP_MAX_HEADERS);
	evhttp_connection_set_flags(q->evcon, EVHTTP_CON_READ_ON_WRITE_ERROR);
	return ASSAY_OK;
}

/* The request: headers, body. */
static struct evhttp_request *
creq_build(struct http_creq *q, const void *body, size_t len)
{
	enum evhttp_cmd_type cmd = q->cmd;
	struct evhttp_request *req;
	struct evkeyvalq *h;
	char clen[24];

	if ((req = evhttp_request_new(client_req_cb, q)) == NULL)
		fatalx("evhttp_request_new");
	evhttp_request_set_error_cb(req, client_err_cb);
	h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", q->target);
	if (!q->c->keepalive)
		evhttp_add_header(h, "Connection", "close");
	evhttp_add_header(h, "Accept", "application/json");
	if (q->ctype != NULL)
		evhttp_add_header(h, "Content-Type", q->ctype);
	if (len > 0 || cmd == EVHTTP_REQ_POST || cmd == EVHTTP_REQ_PUT ||
	    cmd == EVHTTP_REQ_PATCH) {
		snprintf(clen, sizeof(clen), "%zu", len);
		evhttp_add_header(h, "Content-Length", clen);
	}
	if (len > 0 && evbuffer_add(evhttp_request_get_output_buffer(req),
	    body, len) != 0)
		fatalx("evbuffer_add");
	return req;
}

/* Make q's request on q->evcon; failures arrive through the completion. */
void
creq_send(struct http_creq *q, const void *body, size_t len)
{
	struct evhttp_request *req = creq_build(q, body, len);

	if (evhttp_make_request(q->evcon, req, q->cmd, q->path) != 0) {
		/* evhttp took the request off the connection: ours to free. */
		evhttp_request_free(req);
		snprintf(q->detail, sizeof(q->detail), "%s: cannot connect",
		    q->target);
		creq_finish(q, ASSAY_ERR_NET);
		return;
	}
	/* A kept connection has had it since its first request. */
	if (!q->reused)
		http_set_nodelay(bufferevent_getfd(
		    evhttp_connection_get_bufferevent(q->evcon)));
}

int
http_client_request(struct http_client *c, const char *method,
    const char *host, uint16_t port, const char *path, const char *ctype,
    const void *body, size_t len, int timeout_sec, const char *expect_cn,
    http_client_cb cb, void *arg)
{
	return http_client_request_max(c, method, host, port, path, ctype, body,
	    len, timeout_sec, expect_cn, HTTP_CLIENT_MAX_BODY, cb, arg);
}

int
http_client_request_max(struct http_client *c, const char *method,
    const char *host, uint16_t port, const char *path, const char *ctype,
    const void *body, size_t len, int timeout_sec, const char *expect_cn,
    size_t max_body, http_client_cb cb, void *arg)
{
	struct http_creq *q = NULL;
	enum evhttp_cmd_type cmd;
	struct timeval tv;
	int v6, r;

	if (c == NULL || method == NULL || host == NULL || host[0] == '\0' ||
	    path == NULL || path[0] != '/' || cb == NULL || port == 0 ||
	    (body == NULL && len != 0) || strlen(host) > 255 ||
	    strpbrk(path, " \r\n") != NULL)
		return assay_err_set(ASSAY_ERR_INVAL, "bad HTTP request arguments");
	if (http_method_cmd(method, &cmd) == -1)
		return assay_err_set(ASSAY_ERR_INVAL, "unknown method %s", method);
	if (len > HTTP_CLIENT_MAX_BODY)
		return assay_err_set(ASSAY_ERR_RANGE, "request body too large");
	if (ctype != NULL && strpbrk(ctype, "\r\n") != NULL)
		return assay_err_set(ASSAY_ERR_INVAL, "bad content type");
	if (max_body == 0 || max_body > HTTP_CLIENT_MAX_BODY)
		max_body = HTTP_CLIENT_MAX_BODY;
	q = xcalloc(1, sizeof(*q));
	q->c = c;
	q->cb = cb;
	q->arg = arg;
	q->timeout = timeout_sec > 0 ? timeout_sec : HTTP_DEFAULT_TIMEOUT;
	v6 = strchr(host, ':') != NULL;
	snprintf(q->target, sizeof(q->target), "%s%s%s:%u", v6 ? "[" : "",
	    host, v6 ? "]" : "", (unsigned)port);
	snprintf(q->host, sizeof(q->host), "%s", host);
	q->port = port;
	q->cmd = cmd;
	q->path = xstrdup(path);
	q->ctype = xstrdup_or_null(ctype);
	q->max_body = max_body;
	q->expect_cn = xstrdup_or_null(expect_cn);
	if (!creq_reuse(q, body, len) && (r = creq_connect(q)) != 0) {
		creq_free(q);
		return r;
	}
	if ((q->done_ev = event_new(c->base, -1, 0, client_done_cb, q)) == NULL ||
	    (q->timer = evtimer_new(c->base, client_timer_cb, q)) == NULL)
		fatalx("event_new");
	tv.tv_sec = q->timeout;
	tv.tv_usec = 0;
	evtimer_add(q->timer, &tv);
	TAILQ_INSERT_TAIL(&c->reqs, q, entry);
	/*
	 * Any failure from here on, even one evhttp reports synchronously,
	 * reaches the caller through the deferred completion.
	 */
	creq_send(q, body, len);
	return ASSAY_OK;
}
