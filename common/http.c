/*
 * http.c — HTTPS with mutual TLS on libevent's evhttp. Owns the server
 * (listening socket, route table dispatch with {param} captures and role
 * checks, JSON body helpers and replies, settings). Connection accounting,
 * limits and deadlines are http_conn.c; the per-route body limits checked
 * from the request headers before any of the body is read are
 * http_guard.c. The client is http_client.c.
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

const char *
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

/* A request being served: the public part first, so r casts back. */
struct http_sreq {
	struct http_request	 r;
	int			 replied;
	char			*path;
	uint8_t			*body;
	struct http_server	*srv;
	/* http_defer: the reply comes later; the connection it was on */
	int			 held;
	int			 in_handler;	/* server_gencb frees it after */
	struct http_server	*s;		/* NULL once the server is gone */
	struct http_conn	*conn;		/* compared, never dereferenced */
	uint64_t		 conn_serial;
	struct evhttp_connection *evcon;
	TAILQ_ENTRY(http_sreq)	 hentry;
};

static void sreq_free(struct http_sreq *);

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

/*
 * A held request is answered: take it off the server's list and say
 * whether its connection (so the evhttp request) is still there to answer
 * on. evhttp frees a server request only with its connection or after
 * its reply, and reads nothing more while a request awaits its reply;
 * the connection is looked up by identity, never through a pointer that
 * may dangle.
 */
static int
sreq_release(struct http_sreq *q)
{
	struct http_server *s = q->s;

	if (s == NULL)
		return 0;
	TAILQ_REMOVE(&s->held, q, hentry);
	q->s = NULL;
	return conn_release(s, q->conn, q->conn_serial, q->evcon);
}

void
http_defer(struct http_request *r)
{
	struct http_sreq *q = (struct http_sreq *)r;
	struct http_server *s = q->srv;

	if (q->held || q->replied)
		return;
	q->held = 1;
	q->s = s;
	q->evcon = evhttp_request_get_connection(q->r.req);
	q->conn = conn_hold(request_ssl(q->r.req), &q->conn_serial);
	TAILQ_INSERT_TAIL(&s->held, q, hentry);
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
	if (q->held && !sreq_release(q)) {
		log_safe(path, sizeof(path), q->r.path);
		log_info("http: %s %s: the connection closed before the reply "
		    "(%d), dropped", q->r.method, path, status);
		if (!q->in_handler)
			sreq_free(q);
		return;
	}
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
	/* A held request ends with its reply (unless still in its handler). */
	if (q->held && !q->in_handler)
		sreq_free(q);
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

/*
 * Match raw (still encoded) path against pattern. Literal segments must be
 * equal; "{x}" captures one non-empty segment, decoded, without '/' or NUL.
 * 1: match, captures in param[0..*nparam); 0: no match.
 */
int
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

/*
 * The request's peer, path, query and body into q. 0, or -1 when it was
 * refused (the reply sent); *rawpath: the path as sent, for routing.
 */
static int
sreq_prepare(struct http_sreq *q, struct evhttp_request *req,
    const char **rawpath)
{
	const struct evhttp_uri *uri;
	const char *qs;
	struct evbuffer *in;
	size_t dlen, blen;

	if (tls_peer_identity(request_ssl(req), &q->r.peer) != ASSAY_OK) {
		http_reply_error(&q->r, 403, "client certificate required");
		return -1;
	}
	if ((uri = evhttp_request_get_evhttp_uri(req)) == NULL ||
	    (*rawpath = evhttp_uri_get_path(uri)) == NULL || (*rawpath)[0] != '/') {
		http_reply_error(&q->r, 400, "bad request URI");
		return -1;
	}
	if ((q->path = evhttp_uridecode(*rawpath, 0, &dlen)) == NULL ||
	    strlen(q->path) != dlen) {
		http_reply_error(&q->r, 400, "bad request path");
		return -1;
	}
	q->r.path = q->path;
	if ((qs = evhttp_uri_get_query(uri)) != NULL &&
	    evhttp_parse_query_str(qs, &q->r.query) != 0) {
		http_reply_error(&q->r, 400, "bad query string");
		return -1;
	}
	in = evhttp_request_get_input_buffer(req);
	if ((blen = evbuffer_get_length(in)) > HTTP_CLIENT_MAX_BODY) {
		http_reply_error(&q->r, 413, "request body too large");
		return -1;
	}
	q->body = xmalloc(blen + 1);
	if (blen > 0 && evbuffer_copyout(in, q->body, blen) != (ev_ssize_t)blen) {
		http_reply_error(&q->r, 500, "cannot read request body");
		return -1;
	}
	q->body[blen] = '\0';
	q->r.body = q->body;
	q->r.body_len = blen;
	return 0;
}

/*
 * The route for q's method and rawpath, its {param} captures in q; NULL
 * when there is none (404, or 405 with Allow naming the methods there
 * are, sent).
 */
static const struct http_route *
route_find(const struct http_server *s, struct http_sreq *q,
    const char *rawpath)
{
	const struct http_route *rt;
	char allow[128], *params[HTTP_MAX_PARAMS];
	size_t np;

	allow[0] = '\0';
	for (rt = s->routes; rt->method != NULL; rt++) {
		if (!route_match(rt->pattern, rawpath, params, &np))
			continue;
		if (strcmp(rt->method, q->r.method) == 0) {
			memcpy(q->r.param, params, np * sizeof(params[0]));
			q->r.nparam = np;
			return rt;
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
	if (allow[0] != '\0') {
		evhttp_add_header(evhttp_request_get_output_headers(q->r.req),
		    "Allow", allow);
		http_reply_error(&q->r, 405, "method not allowed");
	} else
		http_reply_error(&q->r, 404, "not found");
	return NULL;
}

static void
server_gencb(struct evhttp_request *req, void *arg)
{
	struct http_server *s = arg;
	const struct http_route *found;
	const char *rawpath = NULL;
	struct http_sreq *q;

	q = xcalloc(1, sizeof(*q));
	TAILQ_INIT(&q->r.query);
	q->r.req = req;
	q->r.arg = s->arg;
	q->srv = s;
	q->r.method = http_method_name(evhttp_request_get_command(req));
	if (q->r.method == NULL)
		q->r.method = "?";
	conn_request_done(request_ssl(req));
	if (sreq_prepare(q, req, &rawpath) != 0 ||
	    (found = route_find(s, q, rawpath)) == NULL)
		goto done;
	if ((found->roles & q->r.peer.role) == 0) {
		http_reply_error(&q->r, 403, "forbidden for role %s",
		    tls_role_name(q->r.peer.role));
		goto done;
	}
	q->in_handler = 1;
	found->fn(&q->r);
	q->in_handler = 0;
	if (q->held && !q->replied)
		return;		/* http_defer: the handler answers later */
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
	TAILQ_INIT(&s->held);
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
	struct http_sreq *q;
	struct http_conn *c;

	if (s == NULL)
		return;
	/* Held requests go with their connections: a late reply drops. */
	while ((q = TAILQ_FIRST(&s->held)) != NULL) {
		TAILQ_REMOVE(&s->held, q, hentry);
		q->s = NULL;
		conn_unref(q->conn);
		q->conn = NULL;
	}
	/* Connections are finalized later (event_base_free): detach them. */
	while ((c = TAILQ_FIRST(&s->conns)) != NULL)
		conn_unlink(c);
	strmap_free(s->per_addr);
	evhttp_free(s->http);
	SSL_CTX_free(s->ctx);
	free(s);
}
