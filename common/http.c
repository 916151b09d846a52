/*
 * http.c — HTTPS with mutual TLS on libevent's evhttp. Owns the server
 * (listening socket, TLS bufferevents, route table dispatch with {param}
 * captures and role checks, JSON replies, per-request deadline and cap on
 * concurrent connections, per peer address and for connections still in
 * their TLS handshake, per-route body limits checked from the request
 * headers before any of the body is read). The client is http_client.c.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>

#include "common/err.h"
#include "common/http.h"
#include "common/http_int.h"
#include "common/log.h"
#include "common/strmap.h"
#include "common/xmalloc.h"

#define HTTP_LISTEN_BACKLOG	1024
/* A refused request's connection: seconds to deliver the answer and drain. */
#define HTTP_LINGER_SEC		2
/* http_body_json: largest document, whatever the route allows. */
#define HTTP_JSON_MAX_SIZE	(1024 * 1024)

static const struct {
	enum evhttp_cmd_type	 cmd;
	const char		*name;
} http_methods[] = {
	{ EVHTTP_REQ_GET,	"GET" },
	{ EVHTTP_REQ_POST,	"POST" },
	{ EVHTTP_REQ_PUT,	"PUT" },
	{ EVHTTP_REQ_DELETE,	"DELETE" },
	{ EVHTTP_REQ_HEAD,	"HEAD" },
	{ EVHTTP_REQ_PATCH,	"PATCH" },
	{ EVHTTP_REQ_OPTIONS,	"OPTIONS" },
};

static const struct {
	int		 status;
	const char	*reason;
} http_reasons[] = {
	{ 200, "OK" }, { 201, "Created" }, { 202, "Accepted" },
	{ 204, "No Content" }, { 400, "Bad Request" },
	{ 401, "Unauthorized" }, { 403, "Forbidden" }, { 404, "Not Found" },
	{ 405, "Method Not Allowed" }, { 409, "Conflict" }, { 410, "Gone" },
	{ 413, "Payload Too Large" }, { 415, "Unsupported Media Type" },
	{ 422, "Unprocessable Entity" }, { 429, "Too Many Requests" },
	{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
	{ 502, "Bad Gateway" }, { 503, "Service Unavailable" },
	{ 504, "Gateway Timeout" },
};

const char *
http_method_name(enum evhttp_cmd_type cmd)
{
	for (size_t i = 0; i < sizeof(http_methods) / sizeof(http_methods[0]); i++)
		if (http_methods[i].cmd == cmd)
			return http_methods[i].name;
	return NULL;
}

int
http_method_cmd(const char *name, enum evhttp_cmd_type *cmd)
{
	for (size_t i = 0; i < sizeof(http_methods) / sizeof(http_methods[0]); i++) {
		if (strcmp(http_methods[i].name, name) == 0) {
			*cmd = http_methods[i].cmd;
			return 0;
		}
	}
	return -1;
}

static const char *
status_reason(int status)
{
	for (size_t i = 0; i < sizeof(http_reasons) / sizeof(http_reasons[0]); i++)
		if (http_reasons[i].status == status)
			return http_reasons[i].reason;
	return status < 400 ? "OK" : "Error";
}

/* A socket closed by the peer must not kill the daemon on write. */
void
http_ignore_sigpipe(void)
{
	struct sigaction sa;

	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
}

void
http_set_nodelay(evutil_socket_t fd)
{
	int one = 1;

	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Copy s for a log line: bounded, control and non-ASCII bytes as '?'. */
static void
log_safe(char *dst, size_t dstlen, const char *s)
{
	size_t i;

	for (i = 0; s != NULL && s[i] != '\0' && i + 1 < dstlen; i++)
		dst[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	dst[i] = '\0';
}

/* ---------------------------------------------------------------- server */

/*
 * Per-connection guard. evhttp gives no hook when it accepts a connection,
 * so the guard is born in the bufferevent callback and hangs off the SSL
 * object as ex_data: SSL_free (when libevent finalizes the bufferevent) is
 * the one reliable "connection gone" signal and frees it. The evhttp
 * connection is found when needed as the bufferevent's callback argument
 * (NULL once evhttp has let go of it).
 *
 * Request deadline: the clock starts at accept (it covers the TLS
 * handshake, headers and body of the first request) and stops when the
 * request is complete (server_gencb). On a keep-alive connection it starts
 * again with the first byte of the next request; the idle time between
 * requests is bounded by the evhttp timeout instead.
 */
enum conn_phase {
	PH_NEW,		/* accepted; the admission kick is pending */
	PH_HANDSHAKE,	/* admitted, TLS handshake not complete */
	PH_OPEN,	/* a verified peer */
	PH_CLOSE,	/* refused or evicted: closed by the pending kick */
	PH_LINGER,	/* a request refused from its headers: answer, drain */
};

/*
 * Shadow of the request headers. evhttp has no hook between the headers
 * and the body of a server request, so the decrypted bytes are watched as
 * they arrive (before evhttp reads them) and the header block is parsed
 * here too: route, role and Content-Length are checked, and the
 * connection's body limit set, before evhttp starts on the body. A request
 * this parser cannot classify keeps the limit 0 (no body).
 */
enum shadow_state { SH_HEAD, SH_SKIP, SH_CHUNKED };

struct http_conn {
	TAILQ_ENTRY(http_conn)	 entry;		/* oldest first */
	struct http_server	*s;		/* NULL once the server is gone */
	struct bufferevent	*bev;
	struct evhttp_connection *evcon;	/* set by the admission kick */
	struct event		*ev;		/* kick, deadlines, linger */
	enum conn_phase		 phase;
	struct timeval		 accepted;
	int			 counted;	/* in nconns */
	int			 unauth;	/* in nunauth */
	char			*addr;		/* counted in per_addr */
	int			 busy;		/* a request is being received */
	enum shadow_state	 sh;
	char			*hdr;		/* header bytes so far (SH_HEAD) */
	size_t			 hlen;
	size_t			 body_left;	/* SH_CHUNKED: raw bytes allowed */
	enum shadow_state	 sh_next;	/* after the header block */
};

TAILQ_HEAD(conn_list, http_conn);

struct http_server {
	struct event_base	*base;
	SSL_CTX			*ctx;
	struct evhttp		*http;
	const struct http_route	*routes;
	void			*arg;
	uint16_t		 port;
	int			 deadline;	/* seconds for one request */
	int			 hs_deadline;	/* seconds for the TLS handshake */
	int			 max_conns;
	int			 max_unauth;	/* 0: max_conns / 4 */
	int			 max_per_addr;
	int			 nconns;	/* live, not counting rejects */
	int			 nunauth;	/* of them, not (yet) authenticated */
	int			 any_roles;	/* ROLE_* some route allows */
	size_t			 default_body;
	struct strmap		*per_addr;	/* address -> open connections */
	time_t			 reject_logged;
	unsigned long		 rejected;	/* since the last warning */
	time_t			 addr_logged;
	unsigned long		 addr_rejected;
	time_t			 evict_logged;
	unsigned long		 evicted;
	struct conn_list	 conns;
};

static pthread_once_t conn_idx_once = PTHREAD_ONCE_INIT;
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

static void
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
	free(c);
}

static void
conn_idx_init(void)
{
	conn_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, conn_ssl_free);
	if (conn_idx < 0)
		fatalx("SSL_get_ex_new_index");
}

static struct http_conn *
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
static struct evhttp_connection *
conn_evcon(struct http_conn *c)
{
	void *arg = NULL;

	bufferevent_getcb(c->bev, NULL, NULL, NULL, &arg);
	if (arg == c)
		return c->evcon;
	return arg;
}

static void
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
	log_warn(fmt, a, b, *count);
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

static void conn_input_cb(struct evbuffer *, const struct evbuffer_cb_info *,
	    void *);

/* A request being served: the public part first, so r casts back. */
struct http_sreq {
	struct http_request	 r;
	int			 replied;
	char			*path;
	uint8_t			*body;
};

static struct bufferevent *
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

static SSL *
request_ssl(struct evhttp_request *req)
{
	struct evhttp_connection *evcon;
	struct bufferevent *bev;

	if ((evcon = evhttp_request_get_connection(req)) == NULL ||
	    (bev = evhttp_connection_get_bufferevent(evcon)) == NULL)
		return NULL;
	return bufferevent_openssl_get_ssl(bev);
}

static void
sreq_send(struct http_sreq *q, int status, const char *ctype,
    const void *body, size_t len)
{
	struct evkeyvalq *h;
	struct evbuffer *b;
	char path[256];

	if (q->replied) {
		log_err("http: second reply to %s %s ignored", q->r.method,
		    q->r.path != NULL ? q->r.path : "?");
		return;
	}
	q->replied = 1;
	h = evhttp_request_get_output_headers(q->r.req);
	if (ctype != NULL)
		evhttp_add_header(h, "Content-Type", ctype);
	evhttp_add_header(h, "Cache-Control", "no-store");
	if ((b = evbuffer_new()) == NULL)
		fatalx("evbuffer_new");
	if (len > 0 && evbuffer_add(b, body, len) != 0)
		fatalx("evbuffer_add");
	evhttp_send_reply(q->r.req, status, status_reason(status), b);
	evbuffer_free(b);
	if (log_verbosity() >= LOG_LVL_DEBUG - LOG_LVL_INFO) {
		log_safe(path, sizeof(path), q->r.path);
		log_debug("http: %s %s %d %s", q->r.method, path, status,
		    q->r.peer.cn[0] != '\0' ? q->r.peer.cn : "-");
	}
}

void
http_reply_raw(struct http_request *r, int status, const char *ctype,
    const void *body, size_t len)
{
	sreq_send((struct http_sreq *)r, status, ctype, body, len);
}

void
http_reply_json(struct http_request *r, int status, json_t *body)
{
	char *s = NULL;

	if (body != NULL)
		s = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (body != NULL && s == NULL) {
		static const char oops[] = "{\"error\":\"cannot encode reply\"}";

		sreq_send((struct http_sreq *)r, 500, "application/json",
		    oops, sizeof(oops) - 1);
		return;
	}
	if (s == NULL)
		s = xstrdup("{}");
	sreq_send((struct http_sreq *)r, status, "application/json", s,
	    strlen(s));
	free(s);
}

void
http_reply_error(struct http_request *r, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	json_t *j;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if ((j = json_string(msg)) == NULL) {
		/* Not UTF-8 (e.g. echoes client bytes): make it ASCII. */
		log_safe(msg, sizeof(msg), msg);
		j = json_string(msg);
	}
	http_reply_json(r, status, json_pack("{s:o*}", "error", j));
}

const char *
http_query(const struct http_request *r, const char *key)
{
	return evhttp_find_header(&r->query, key);
}

/* Deepest nesting of arrays and objects in p (strings skipped). */
static int
json_depth(const uint8_t *p, size_t n)
{
	int depth = 0, max = 0, instr = 0;

	for (size_t i = 0; i < n; i++) {
		if (instr) {
			if (p[i] == '\\')
				i++;
			else if (p[i] == '"')
				instr = 0;
		} else if (p[i] == '"')
			instr = 1;
		else if (p[i] == '[' || p[i] == '{') {
			if (++depth > max)
				max = depth;
		} else if (p[i] == ']' || p[i] == '}')
			depth--;
	}
	return max;
}

json_t *
http_body_json(struct http_request *r)
{
	json_error_t jerr;
	json_t *j;

	if (r->body_len == 0) {
		http_reply_error(r, 400, "request body required");
		return NULL;
	}
	if (r->body_len > HTTP_JSON_MAX_SIZE) {
		http_reply_error(r, 413, "JSON body larger than %d bytes",
		    HTTP_JSON_MAX_SIZE);
		return NULL;
	}
	if (json_depth(r->body, r->body_len) > HTTP_JSON_MAX_DEPTH) {
		http_reply_error(r, 400, "JSON nested deeper than %d",
		    HTTP_JSON_MAX_DEPTH);
		return NULL;
	}
	if ((j = json_loadb((const char *)r->body, r->body_len,
	    JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		http_reply_error(r, 400, "invalid JSON at line %d: %s",
		    jerr.line, jerr.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		http_reply_error(r, 400, "JSON body must be an object");
		return NULL;
	}
	return j;
}

/*
 * Match raw (still encoded) path against pattern. Literal segments must be
 * equal; "{x}" captures one non-empty segment, decoded, without '/' or NUL.
 * 1: match, captures in param[0..*nparam); 0: no match.
 */
static int
route_match(const char *pattern, const char *path, char **param,
    size_t *nparam)
{
	const char *p = pattern, *s = path, *pe, *se;
	size_t n = 0, plen, slen, dlen;
	char *seg, *dec;

	*nparam = 0;
	while (*p == '/' && *s == '/') {
		p++;
		s++;
		pe = p + strcspn(p, "/");
		se = s + strcspn(s, "/");
		plen = (size_t)(pe - p);
		slen = (size_t)(se - s);
		if (plen >= 2 && p[0] == '{' && p[plen - 1] == '}') {
			if (slen == 0 || n >= HTTP_MAX_PARAMS)
				goto nomatch;
			seg = xstrndup(s, slen);
			dec = evhttp_uridecode(seg, 0, &dlen);
			free(seg);
			if (dec == NULL)
				goto nomatch;
			if (dlen == 0 || memchr(dec, '\0', dlen) != NULL ||
			    memchr(dec, '/', dlen) != NULL) {
				free(dec);
				goto nomatch;
			}
			param[n++] = dec;
		} else if (plen != slen || memcmp(p, s, plen) != 0)
			goto nomatch;
		p = pe;
		s = se;
	}
	if (*p != '\0' || *s != '\0')
		goto nomatch;
	*nparam = n;
	return 1;
 nomatch:
	while (n > 0)
		free(param[--n]);
	return 0;
}

/* Body limit of rt: its own, none for GET/HEAD/DELETE, else the default. */
static size_t
route_body_limit(const struct http_server *s, const struct http_route *rt)
{
	if (rt->max_body != 0)
		return rt->max_body;
	if (strcmp(rt->method, "GET") == 0 || strcmp(rt->method, "HEAD") == 0 ||
	    strcmp(rt->method, "DELETE") == 0)
		return 0;
	return s->default_body;
}

/* The route for method and raw path; NULL with *status 404 or 405. */
static const struct http_route *
route_find(const struct http_server *s, const char *method,
    const char *rawpath, int *status)
{
	const struct http_route *rt;
	char *params[HTTP_MAX_PARAMS];
	size_t np;

	*status = 404;
	for (rt = s->routes; rt->method != NULL; rt++) {
		if (!route_match(rt->pattern, rawpath, params, &np))
			continue;
		while (np > 0)
			free(params[--np]);
		if (strcmp(rt->method, method) == 0)
			return rt;
		*status = 405;
	}
	return NULL;
}

static void
shadow_stop(struct http_conn *c)
{
	c->sh = SH_SKIP;
	free(c->hdr);
	c->hdr = NULL;
	c->hlen = 0;
}

static void
refuse_read_cb(struct bufferevent *bev, void *arg)
{
	struct evbuffer *in = bufferevent_get_input(bev);

	(void)arg;
	evbuffer_drain(in, evbuffer_get_length(in));
}

static void
refuse_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct http_conn *c = arg;
	struct evhttp_connection *evcon;

	(void)bev;
	if ((what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) != 0 &&
	    (evcon = conn_evcon(c)) != NULL)
		evhttp_connection_free(evcon);
}

/*
 * Answer the request whose headers just arrived with status and close the
 * connection, without reading its body: the bufferevent is taken from
 * evhttp, the answer written, what the client still sends drained (so it
 * sees the answer rather than a reset) for HTTP_LINGER_SEC at most.
 */
static void
conn_refuse(struct http_conn *c, int status, const char *msg)
{
	struct evhttp_connection *evcon;
	struct timeval tv = { HTTP_LINGER_SEC, 0 };
	char head[256], body[256];
	int blen, hlen;

	if ((evcon = conn_evcon(c)) == NULL)
		return;
	c->evcon = evcon;
	c->phase = PH_LINGER;
	c->busy = 0;
	shadow_stop(c);
	evtimer_del(c->ev);
	evtimer_add(c->ev, &tv);
	blen = snprintf(body, sizeof(body), "{\"error\":\"%s\"}", msg);
	hlen = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\n"
	    "Content-Type: application/json\r\nCache-Control: no-store\r\n"
	    "Connection: close\r\nContent-Length: %d\r\n\r\n", status,
	    status_reason(status), blen);
	bufferevent_setcb(c->bev, refuse_read_cb, NULL, refuse_event_cb, c);
	if (bufferevent_write(c->bev, head, (size_t)hlen) != 0 ||
	    bufferevent_write(c->bev, body, (size_t)blen) != 0)
		fatalx("bufferevent_write");
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* A decimal Content-Length; -1 if malformed, capped at SIZE_MAX. */
static int
parse_length(const char *v, size_t *out)
{
	size_t n = 0;

	if (*v == '\0')
		return -1;
	for (; *v != '\0'; v++) {
		if (*v < '0' || *v > '9')
			return -1;
		n = n > (SIZE_MAX - 9) / 10 ? SIZE_MAX : n * 10 + (size_t)(*v - '0');
	}
	*out = n;
	return 0;
}

static char *
trim(char *p)
{
	char *e;

	p += strspn(p, " \t");
	e = p + strlen(p);
	while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return p;
}

/*
 * The header block c->hdr[0..len) (NUL-terminated) is complete: decide
 * from the request line and headers, before evhttp reads any body.
 * in_handler: called while a previous request is being answered, when the
 * connection cannot be taken over; the limit alone is set then.
 */
static void
shadow_decide(struct http_conn *c, int in_handler)
{
	const struct http_route *rt = NULL;
	struct evhttp_connection *evcon;
	struct tls_peer peer;
	char *line, *next, *method = NULL, *uri, *v, *path = NULL, msg[64] = "";
	size_t cl = 0, limit = 0;
	int have_cl = 0, have_te = 0, chunked = 0, bad = 0, status = 0;

	c->sh_next = SH_SKIP;
	int refuse = 0, first = 1;

	if ((evcon = conn_evcon(c)) == NULL)
		return;
	for (line = c->hdr; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line = trim(line);
		if (first) {
			if (*line == '\0')
				continue;	/* evhttp skips blank lines too */
			first = 0;
			method = line;
			if ((uri = strchr(method, ' ')) == NULL) {
				bad = 1;
				break;
			}
			*uri++ = '\0';
			uri += strspn(uri, " ");
			uri[strcspn(uri, " ")] = '\0';
			path = xstrndup(uri, strcspn(uri, "?#"));
			continue;
		}
		if ((v = strchr(line, ':')) == NULL)
			continue;
		*v++ = '\0';
		v = trim(v);
		if (strcasecmp(line, "Content-Length") == 0 && !have_cl) {
			have_cl = 1;
			if (parse_length(v, &cl) != 0)
				bad = 1;
		} else if (strcasecmp(line, "Transfer-Encoding") == 0 && !have_te) {
			have_te = 1;
			chunked = strcasecmp(v, "chunked") == 0;
		}
	}
	if (bad || path == NULL || path[0] != '/')
		goto out;	/* evhttp refuses it; no body meanwhile */
	if ((rt = route_find(c->s, method, path, &status)) == NULL) {
		snprintf(msg, sizeof(msg), "%s",
		    status == 405 ? "method not allowed" : "not found");
		refuse = chunked || cl > 0;
		goto out;
	}
	if (tls_peer_identity(bufferevent_openssl_get_ssl(c->bev),
	    &peer) != ASSAY_OK) {
		status = 403;
		snprintf(msg, sizeof(msg), "client certificate required");
		refuse = chunked || cl > 0;
		goto out;
	}
	if ((rt->roles & peer.role) == 0) {
		status = 403;
		snprintf(msg, sizeof(msg), "forbidden for role %s",
		    tls_role_name(peer.role));
		refuse = chunked || cl > 0;
		goto out;
	}
	limit = route_body_limit(c->s, rt);
	if ((!chunked && cl > limit) || (chunked && limit == 0)) {
		status = 413;
		snprintf(msg, sizeof(msg), "request body too large (max %zu "
		    "bytes)", limit);
		refuse = 1;
		limit = 0;
	}
 out:
	free(path);
	/*
	 * A chunked body is counted here as it arrives, framing included
	 * (conn_input_cb), and refused like an announced one once over the
	 * limit; evhttp's own check (a chunk announced larger than twice the
	 * limit) is the backstop.
	 */
	if (chunked && !refuse && limit > 0 && !in_handler) {
		c->sh_next = SH_CHUNKED;
		c->body_left = limit;
		limit = limit > SIZE_MAX / 2 ? SIZE_MAX : 2 * limit;
	}
	evhttp_connection_set_max_body_size(evcon, (ev_ssize_t)limit);
	if (refuse && !in_handler) {
		log_debug("http: %s %s refused before its body: %d %s",
		    method, rt != NULL ? rt->pattern : "-", status, msg);
		conn_refuse(c, status, msg);
	}
}

static void conn_body_bytes(struct http_conn *, size_t);

/* Bytes [off, off + n) of b are new request bytes of c. */
static void
shadow_feed(struct http_conn *c, struct evbuffer *b, size_t off, size_t n,
    int in_handler)
{
	struct evbuffer_ptr pos;
	size_t i, start, total = n;

	if (c->sh != SH_HEAD || n == 0)
		return;
	if (c->hdr == NULL)
		c->hdr = xmalloc(HTTP_MAX_HEADERS + 1);
	if (n > HTTP_MAX_HEADERS - c->hlen)
		n = HTTP_MAX_HEADERS - c->hlen;
	if (evbuffer_ptr_set(b, &pos, off, EVBUFFER_PTR_SET) != 0 ||
	    evbuffer_copyout_from(b, &pos, c->hdr + c->hlen, n) !=
	    (ev_ssize_t)n) {
		shadow_stop(c);
		return;
	}
	start = c->hlen;
	c->hlen += n;
	/* The block ends with an empty line (LF or CRLF), not a leading one. */
	for (i = start; i < c->hlen; i++) {
		if (c->hdr[i] != '\n')
			continue;
		if ((i >= 2 && c->hdr[i - 1] == '\n') ||
		    (i >= 3 && c->hdr[i - 1] == '\r' && c->hdr[i - 2] == '\n')) {
			c->hdr[i + 1] = '\0';
			shadow_decide(c, in_handler);
			if (c->phase != PH_OPEN)
				return;		/* refused */
			shadow_stop(c);
			c->sh = c->sh_next;
			/* The rest of this add is body. */
			conn_body_bytes(c, total - (i + 1 - start));
			return;
		}
	}
	if (c->hlen >= HTTP_MAX_HEADERS)
		shadow_stop(c);	/* evhttp refuses it (same header limit) */
}

/* n bytes of a counted (chunked) body arrived. */
static void
conn_body_bytes(struct http_conn *c, size_t n)
{
	char msg[64];

	if (c->sh != SH_CHUNKED || n == 0)
		return;
	if (n <= c->body_left) {
		c->body_left -= n;
		return;
	}
	snprintf(msg, sizeof(msg), "request body too large");
	conn_refuse(c, 413, msg);
}

/* Bytes of a request arrived: the first of one starts its deadline. */
static void
conn_input_cb(struct evbuffer *b, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct http_conn *c = arg;
	size_t len;

	if (info->n_added == 0 || c->s == NULL || c->phase != PH_OPEN)
		return;
	if (!c->busy)
		conn_arm(c);
	len = evbuffer_get_length(b);
	if (c->sh == SH_CHUNKED)
		conn_body_bytes(c, info->n_added);
	else if (c->sh == SH_HEAD && info->n_added <= len)
		shadow_feed(c, b, len - info->n_added, info->n_added, 0);
}

/* A complete request was received on the connection of ssl. */
static void
conn_request_done(SSL *ssl)
{
	struct http_conn *c = conn_of_ssl(ssl);
	struct evhttp_connection *evcon;
	struct evbuffer *in;

	if (c == NULL || c->s == NULL || c->phase != PH_OPEN)
		return;
	c->busy = 0;
	evtimer_del(c->ev);
	shadow_stop(c);
	c->sh = SH_HEAD;
	if ((evcon = conn_evcon(c)) != NULL)
		evhttp_connection_set_max_body_size(evcon, 0);
	/* Bytes of a pipelined request already waiting: its clock runs. */
	in = bufferevent_get_input(c->bev);
	if (evbuffer_get_length(in) > 0) {
		conn_arm(c);
		shadow_feed(c, in, 0, evbuffer_get_length(in), 1);
	}
}

static void
sreq_free(struct http_sreq *q)
{
	for (size_t i = 0; i < q->r.nparam; i++)
		free(q->r.param[i]);
	evhttp_clear_headers(&q->r.query);
	free(q->path);
	free(q->body);
	free(q);
}

static void
server_gencb(struct evhttp_request *req, void *arg)
{
	struct http_server *s = arg;
	const struct http_route *rt, *found = NULL;
	const struct evhttp_uri *uri;
	const char *rawpath, *qs;
	struct http_sreq *q;
	struct evbuffer *in;
	char allow[128], *params[HTTP_MAX_PARAMS];
	size_t dlen, blen, np;

	q = xcalloc(1, sizeof(*q));
	TAILQ_INIT(&q->r.query);
	q->r.req = req;
	q->r.arg = s->arg;
	q->r.method = http_method_name(evhttp_request_get_command(req));
	if (q->r.method == NULL)
		q->r.method = "?";
	conn_request_done(request_ssl(req));

	if (tls_peer_identity(request_ssl(req), &q->r.peer) != ASSAY_OK) {
		http_reply_error(&q->r, 403, "client certificate required");
		goto done;
	}
	if ((uri = evhttp_request_get_evhttp_uri(req)) == NULL ||
	    (rawpath = evhttp_uri_get_path(uri)) == NULL || rawpath[0] != '/') {
		http_reply_error(&q->r, 400, "bad request URI");
		goto done;
	}
	if ((q->path = evhttp_uridecode(rawpath, 0, &dlen)) == NULL ||
	    strlen(q->path) != dlen) {
		http_reply_error(&q->r, 400, "bad request path");
		goto done;
	}
	q->r.path = q->path;
	if ((qs = evhttp_uri_get_query(uri)) != NULL &&
	    evhttp_parse_query_str(qs, &q->r.query) != 0) {
		http_reply_error(&q->r, 400, "bad query string");
		goto done;
	}
	in = evhttp_request_get_input_buffer(req);
	if ((blen = evbuffer_get_length(in)) > HTTP_CLIENT_MAX_BODY) {
		http_reply_error(&q->r, 413, "request body too large");
		goto done;
	}
	q->body = xmalloc(blen + 1);
	if (blen > 0 && evbuffer_copyout(in, q->body, blen) != (ev_ssize_t)blen) {
		http_reply_error(&q->r, 500, "cannot read request body");
		goto done;
	}
	q->body[blen] = '\0';
	q->r.body = q->body;
	q->r.body_len = blen;

	allow[0] = '\0';
	for (rt = s->routes; rt->method != NULL; rt++) {
		if (!route_match(rt->pattern, rawpath, params, &np))
			continue;
		if (strcmp(rt->method, q->r.method) == 0) {
			found = rt;
			memcpy(q->r.param, params, np * sizeof(params[0]));
			q->r.nparam = np;
			break;
		}
		while (np > 0)
			free(params[--np]);
		if (strstr(allow, rt->method) == NULL &&
		    strlen(allow) + strlen(rt->method) + 3 < sizeof(allow)) {
			if (allow[0] != '\0')
				strcat(allow, ", ");
			strcat(allow, rt->method);
		}
	}
	if (found == NULL) {
		if (allow[0] != '\0') {
			evhttp_add_header(evhttp_request_get_output_headers(req),
			    "Allow", allow);
			http_reply_error(&q->r, 405, "method not allowed");
		} else
			http_reply_error(&q->r, 404, "not found");
		goto done;
	}
	if ((found->roles & q->r.peer.role) == 0) {
		http_reply_error(&q->r, 403, "forbidden for role %s",
		    tls_role_name(q->r.peer.role));
		goto done;
	}
	found->fn(&q->r);
	if (!q->replied) {
		log_err("http: handler for %s %s sent no reply", found->method,
		    found->pattern);
		http_reply_error(&q->r, 500, "internal error");
	}
 done:
	sreq_free(q);
}

struct http_server *
http_server_new(struct event_base *base, SSL_CTX *ctx,
    const struct http_route *routes, void *arg)
{
	struct http_server *s;

	http_ignore_sigpipe();
	s = xcalloc(1, sizeof(*s));
	s->base = base;
	s->routes = routes;
	s->arg = arg;
	s->deadline = HTTP_DEFAULT_DEADLINE;
	s->hs_deadline = HTTP_DEFAULT_HANDSHAKE_DEADLINE;
	s->max_conns = HTTP_DEFAULT_MAX_CONNS;
	s->max_per_addr = HTTP_DEFAULT_MAX_PER_ADDR;
	s->default_body = HTTP_MAX_BODY;
	s->per_addr = strmap_new();
	for (const struct http_route *rt = routes; rt->method != NULL; rt++)
		s->any_roles |= rt->roles;
	TAILQ_INIT(&s->conns);
	if (pthread_once(&conn_idx_once, conn_idx_init) != 0)
		fatalx("pthread_once");
	if ((s->http = evhttp_new(base)) == NULL)
		fatalx("evhttp_new");
	SSL_CTX_up_ref(ctx);
	s->ctx = ctx;
	evhttp_set_bevcb(s->http, server_bevcb, s);
	evhttp_set_gencb(s->http, server_gencb, s);
	evhttp_set_timeout(s->http, HTTP_DEFAULT_TIMEOUT);
	evhttp_set_max_headers_size(s->http, HTTP_MAX_HEADERS);
	/* No body until the request's headers name a route (shadow_decide). */
	evhttp_set_max_body_size(s->http, 0);
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_PATCH | EVHTTP_REQ_OPTIONS);
	/* Read (and drop) an oversized body so the client sees the 413. */
	evhttp_set_flags(s->http, EVHTTP_SERVER_LINGERING_CLOSE);
	return s;
}

void
http_server_set_timeout(struct http_server *s, int sec)
{
	evhttp_set_timeout(s->http, sec > 0 ? sec : HTTP_DEFAULT_TIMEOUT);
}

void
http_server_set_request_deadline(struct http_server *s, int sec)
{
	s->deadline = sec > 0 ? sec : HTTP_DEFAULT_DEADLINE;
}

void
http_server_set_max_connections(struct http_server *s, int max)
{
	s->max_conns = max > 0 ? max : HTTP_DEFAULT_MAX_CONNS;
}

int
http_server_connections(const struct http_server *s)
{
	return s->nconns;
}

void
http_server_set_max_body(struct http_server *s, size_t max)
{
	if (max == 0 || max > HTTP_CLIENT_MAX_BODY)
		max = HTTP_MAX_BODY;
	s->default_body = max;
}

void
http_server_set_max_per_addr(struct http_server *s, int max)
{
	s->max_per_addr = max > 0 ? max : HTTP_DEFAULT_MAX_PER_ADDR;
}

void
http_server_set_unauth_limits(struct http_server *s, int max, int sec)
{
	s->max_unauth = max > 0 ? max : 0;
	s->hs_deadline = sec > 0 ? sec : HTTP_DEFAULT_HANDSHAKE_DEADLINE;
}

int
http_server_unauth_connections(const struct http_server *s)
{
	return s->nunauth;
}

int
http_server_listen(struct http_server *s, const char *addr, uint16_t port)
{
	struct addrinfo hints, *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char portstr[8];
	int fd = -1, one = 1, gai, r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%u", (unsigned)port);
	if (addr != NULL && addr[0] == '\0')
		addr = NULL;
	if ((gai = getaddrinfo(addr, portstr, &hints, &res)) != 0)
		return assay_err_set(ASSAY_ERR_NET, "listen address %s: %s",
		    addr != NULL ? addr : "*", gai_strerror(gai));
	if ((fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, res->ai_protocol)) == -1) {
		r = assay_err_set(ASSAY_ERR_NET, "socket: %s", strerror(errno));
		goto out;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Linux: accepted sockets inherit TCP_NODELAY from the listener. */
	http_set_nodelay(fd);
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    listen(fd, HTTP_LISTEN_BACKLOG) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sslen) == -1) {
		r = assay_err_set(ASSAY_ERR_NET, "listen on %s port %u: %s",
		    addr != NULL ? addr : "*", (unsigned)port, strerror(errno));
		goto out;
	}
	if (evhttp_accept_socket_with_handle(s->http, fd) == NULL) {
		r = assay_err_set(ASSAY_ERR_NET, "evhttp_accept_socket failed");
		goto out;
	}
	fd = -1;	/* evhttp owns it now */
	if (s->port == 0)
		s->port = ntohs(ss.ss_family == AF_INET6 ?
		    ((struct sockaddr_in6 *)&ss)->sin6_port :
		    ((struct sockaddr_in *)&ss)->sin_port);
	r = ASSAY_OK;
 out:
	if (fd != -1)
		close(fd);
	freeaddrinfo(res);
	return r;
}

uint16_t
http_server_port(const struct http_server *s)
{
	return s->port;
}

void
http_server_free(struct http_server *s)
{
	struct http_conn *c;

	if (s == NULL)
		return;
	/* Connections are finalized later (event_base_free): detach them. */
	while ((c = TAILQ_FIRST(&s->conns)) != NULL)
		conn_unlink(c);
	strmap_free(s->per_addr);
	evhttp_free(s->http);
	SSL_CTX_free(s->ctx);
	free(s);
}
