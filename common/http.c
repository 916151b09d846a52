/*
 * http.c — HTTPS with mutual TLS on libevent's evhttp. Owns the server
 * (listening socket, TLS bufferevents, route table dispatch with {param}
 * captures and role checks, JSON replies, per-request deadline and cap on
 * concurrent connections) and the client (one connection
 * per request, server CN check during the handshake, completion delivered
 * once and deferred on the loop thread, blocking wrapper on a private loop).
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
#include "common/xmalloc.h"

#define HTTP_LISTEN_BACKLOG	1024

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
struct http_conn {
	LIST_ENTRY(http_conn)	 entry;
	struct http_server	*s;		/* NULL once the server is gone */
	struct bufferevent	*bev;
	struct event		*ev;		/* deadline, or the reject kick */
	int			 reject;
	int			 busy;		/* a request is being received */
};

struct http_server {
	struct event_base	*base;
	SSL_CTX			*ctx;
	struct evhttp		*http;
	const struct http_route	*routes;
	void			*arg;
	uint16_t		 port;
	int			 deadline;	/* seconds for one request */
	int			 max_conns;
	int			 nconns;	/* live, not counting rejects */
	time_t			 reject_logged;
	unsigned long		 rejected;	/* since the last warning */
	LIST_HEAD(, http_conn)	 conns;
};

static pthread_once_t conn_idx_once = PTHREAD_ONCE_INIT;
static int conn_idx = -1;

static void
conn_unlink(struct http_conn *c)
{
	if (c->s == NULL)
		return;
	if (!c->reject)
		c->s->nconns--;
	LIST_REMOVE(c, entry);
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

/* The evhttp connection still using c's bufferevent, or NULL. */
static struct evhttp_connection *
conn_evcon(struct http_conn *c)
{
	void *arg = NULL;

	bufferevent_getcb(c->bev, NULL, NULL, NULL, &arg);
	return arg;
}

static void
conn_arm(struct http_conn *c)
{
	struct timeval tv = { c->s->deadline, 0 };

	c->busy = 1;
	evtimer_add(c->ev, &tv);
}

static void
conn_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *c = arg;
	struct evhttp_connection *evcon;
	char *addr = NULL;
	ev_uint16_t port = 0;

	(void)fd; (void)what;
	if ((evcon = conn_evcon(c)) == NULL)
		return;
	if (c->reject) {
		evhttp_connection_free(evcon);
		return;
	}
	evhttp_connection_get_peer(evcon, &addr, &port);
	log_info("http: %s port %u sent no complete request in %d s, closing",
	    addr != NULL ? addr : "?", (unsigned)port, c->s->deadline);
	evhttp_connection_free(evcon);
}

/* Bytes of a request arrived: the first of one starts its deadline. */
static void
conn_input_cb(struct evbuffer *b, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct http_conn *c = arg;

	(void)b;
	if (info->n_added > 0 && !c->busy && c->s != NULL)
		conn_arm(c);
}

/* A complete request was received on the connection of ssl. */
static void
conn_request_done(SSL *ssl)
{
	struct http_conn *c = conn_of_ssl(ssl);

	if (c == NULL || c->s == NULL)
		return;
	c->busy = 0;
	evtimer_del(c->ev);
	/* Bytes of a pipelined request already waiting: its clock runs. */
	if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		conn_arm(c);
}

static void
conn_log_reject(struct http_server *s)
{
	time_t now = time(NULL);

	s->rejected++;
	if (s->reject_logged != 0 && now - s->reject_logged < 10)
		return;
	log_warn("http: %d connections open (max %d): refused %lu", s->nconns,
	    s->max_conns, s->rejected);
	s->reject_logged = now;
	s->rejected = 0;
}

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
	if ((c->ev = evtimer_new(base, conn_deadline_cb, c)) == NULL)
		fatalx("evtimer_new");
	if (SSL_set_ex_data(ssl, conn_idx, c) != 1)
		fatalx("SSL_set_ex_data");
	LIST_INSERT_HEAD(&s->conns, c, entry);
	if (s->nconns >= s->max_conns) {
		/*
		 * Over the limit: close it as soon as evhttp has adopted
		 * it. An activated event runs in this same loop pass,
		 * before any I/O on the new socket, so no TLS is done.
		 */
		c->reject = 1;
		conn_log_reject(s);
		event_active(c->ev, EV_TIMEOUT, 0);
		return bev;
	}
	s->nconns++;
	if (evbuffer_add_cb(bufferevent_get_input(bev), conn_input_cb,
	    c) == NULL)
		fatalx("evbuffer_add_cb");
	conn_arm(c);
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

json_t *
http_body_json(struct http_request *r)
{
	json_error_t jerr;
	json_t *j;

	if (r->body_len == 0) {
		http_reply_error(r, 400, "request body required");
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
	s->max_conns = HTTP_DEFAULT_MAX_CONNS;
	LIST_INIT(&s->conns);
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
	evhttp_set_max_body_size(s->http, HTTP_MAX_BODY);
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
	evhttp_set_max_body_size(s->http, (ev_ssize_t)max);
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
	while ((c = LIST_FIRST(&s->conns)) != NULL)
		conn_unlink(c);
	evhttp_free(s->http);
	SSL_CTX_free(s->ctx);
	free(s);
}
