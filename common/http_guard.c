/*
 * http_guard.c — the early request guard of the HTTPS server (http.c): a
 * shadow parse of each request line and header block as the bytes arrive,
 * before evhttp reads any body. It finds the route, checks the peer's role
 * and Content-Length against the route's body limit, counts chunked
 * bodies, and refuses a request from its headers (answer, linger, close).
 * Connection accounting and deadlines are http_conn.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>

#include "common/err.h"
#include "common/http.h"
#include "common/http_int.h"
#include "common/log.h"
#include "common/xmalloc.h"

/* A refused request's connection: seconds to deliver the answer and drain. */
#define HTTP_LINGER_SEC		2

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
void
http_head_parse(char *hdr, struct http_head *h)
{
	char *line, *next, *uri, *v;
	int have_cl = 0, have_te = 0, first = 1;

	memset(h, 0, sizeof(*h));
	for (line = hdr; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line = trim(line);
		if (first) {
			if (*line == '\0')
				continue;	/* evhttp skips blank lines too */
			first = 0;
			h->method = line;
			if ((uri = strchr(line, ' ')) == NULL) {
				h->bad = 1;
				return;
			}
			*uri++ = '\0';
			uri += strspn(uri, " ");
			uri[strcspn(uri, " ")] = '\0';
			h->path = xstrndup(uri, strcspn(uri, "?#"));
			continue;
		}
		if ((v = strchr(line, ':')) == NULL)
			continue;
		*v++ = '\0';
		v = trim(v);
		if (strcasecmp(line, "Content-Length") == 0 && !have_cl) {
			have_cl = 1;
			if (parse_length(v, &h->content_length) != 0)
				h->bad = 1;
		} else if (strcasecmp(line, "Transfer-Encoding") == 0 && !have_te) {
			have_te = 1;
			h->chunked = strcasecmp(v, "chunked") == 0;
		}
	}
}

void
http_head_free(struct http_head *h)
{
	free(h->path);
	h->path = NULL;
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
	struct http_head h;
	struct tls_peer peer;
	const char *method, *path;
	char msg[64] = "";
	size_t cl, limit = 0;
	int chunked, status = 0, refuse = 0;

	c->sh_next = SH_SKIP;
	if ((evcon = conn_evcon(c)) == NULL)
		return;
	http_head_parse(c->hdr, &h);
	method = h.method;
	path = h.path;
	cl = h.content_length;
	chunked = h.chunked;
	if (h.bad || path == NULL || path[0] != '/')
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
	http_head_free(&h);
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
void
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
void
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
