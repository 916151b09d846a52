/*
 * http.h — HTTPS with mutual TLS over libevent's evhttp: a server with a
 * route table (method, pattern with {param} captures, allowed roles,
 * handler) and an asynchronous client, plus a blocking client for tools.
 * The server and client run on the caller's event loop thread.
 */
#ifndef ASSAY_HTTP_H
#define ASSAY_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "common/tls.h"

#define HTTP_MAX_PARAMS	4
#define HTTP_MAX_BODY	(16u * 1024 * 1024)
#define HTTP_DEFAULT_DEADLINE	30
#define HTTP_DEFAULT_MAX_CONNS	4096
/* Connections from one peer address at once (http_server_set_max_per_addr). */
#define HTTP_DEFAULT_MAX_PER_ADDR	256
/* Seconds a connection gets to complete its TLS handshake. */
#define HTTP_DEFAULT_HANDSHAKE_DEADLINE	5
/* Nesting of arrays and objects http_body_json accepts. */
#define HTTP_JSON_MAX_DEPTH	32

struct http_request {
	struct evhttp_request	*req;
	const char		*method;	/* "GET", "PUT", ... */
	const char		*path;		/* decoded path, no query */
	char			*param[HTTP_MAX_PARAMS];	/* {x} captures, decoded */
	size_t			 nparam;
	struct evkeyvalq	 query;		/* decoded query parameters */
	const uint8_t		*body;		/* NUL-terminated copy */
	size_t			 body_len;
	struct tls_peer		 peer;
	void			*arg;		/* the server's arg */
};

typedef void (*http_handler)(struct http_request *r);

/*
 * max_body: largest request body the route accepts, in bytes. 0: none for
 * GET, HEAD and DELETE; for other methods the server's default
 * (http_server_set_max_body). The route, the role and the announced length
 * are checked as soon as the request headers are in, before any of the
 * body is read: a Content-Length over the limit, or a body for a role the
 * route does not allow, is answered (413, 403) and the connection closed;
 * a chunked body is counted as it arrives.
 */
struct http_route {
	const char	*method;
	const char	*pattern;	/* "/v1/agents/{id}/events" */
	int		 roles;		/* ROLE_* bits allowed */
	http_handler	 fn;
	size_t		 max_body;
};

struct http_server;

/* routes: terminated by an entry with method NULL; kept by reference. */
struct http_server *http_server_new(struct event_base *base, SSL_CTX *ctx,
	    const struct http_route *routes, void *arg);
/* Listen on addr:port (port 0: ephemeral, see http_server_port). */
int	http_server_listen(struct http_server *s, const char *addr, uint16_t port);
uint16_t http_server_port(const struct http_server *s);
/* Idle/read timeout per connection (default 30 s). */
void	http_server_set_timeout(struct http_server *s, int sec);
/*
 * Absolute time a connection gets to deliver one complete request (TLS
 * handshake, headers, body; default HTTP_DEFAULT_DEADLINE s). The clock
 * starts at accept and, on a keep-alive connection, again at the first
 * byte of each later request; idle time between requests is bounded by the
 * timeout above. A connection past its deadline is closed (logged at info).
 */
void	http_server_set_request_deadline(struct http_server *s, int sec);
/*
 * Most connections open at once (default HTTP_DEFAULT_MAX_CONNS); more are
 * closed right after accept, before any TLS, with a rate-limited warning.
 */
void	http_server_set_max_connections(struct http_server *s, int max);
/* Connections currently open, refused ones not counted (loop thread). */
int	http_server_connections(const struct http_server *s);
/*
 * Most connections from one peer address at once (default
 * HTTP_DEFAULT_MAX_PER_ADDR); more are closed right after accept.
 */
void	http_server_set_max_per_addr(struct http_server *s, int max);
/*
 * Unauthenticated connections (TLS handshake not complete, or a verified
 * certificate whose role no route allows) may hold at most max of the
 * max_connections slots (default: a quarter of them, at least 1). When a
 * new connection arrives with max such connections open, or all slots
 * taken, the oldest of them is closed: they cannot keep an authenticated
 * peer out. sec: time a connection gets to complete its handshake
 * (default HTTP_DEFAULT_HANDSHAKE_DEADLINE, never more than the request
 * deadline).
 */
void	http_server_set_unauth_limits(struct http_server *s, int max, int sec);
/* Unauthenticated connections open (loop thread). */
int	http_server_unauth_connections(const struct http_server *s);
/* Body limit of routes with max_body 0 and a body method (default HTTP_MAX_BODY). */
void	http_server_set_max_body(struct http_server *s, size_t max);
void	http_server_free(struct http_server *s);

/*
 * The handler answers r later, from the loop thread (say once work done
 * off the loop is back): r, its body, params and peer stay valid until
 * that reply, which ends r. If the connection closed meanwhile, or the
 * server was freed, the reply is dropped (logged) and r freed all the
 * same. The connection reads nothing more until then.
 */
void	http_defer(struct http_request *r);

/* Replies: exactly one per request, from the handler (loop thread). */
void	http_reply_json(struct http_request *r, int status, json_t *body);	/* steals body */
void	http_reply_error(struct http_request *r, int status, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	http_reply_raw(struct http_request *r, int status, const char *ctype,
	    const void *body, size_t len);
const char *http_query(const struct http_request *r, const char *key);
/*
 * Parse the body as a JSON object, at most HTTP_JSON_MAX_DEPTH arrays and
 * objects deep; replies 400 itself and returns NULL on error.
 */
json_t	*http_body_json(struct http_request *r);
/*
 * The same checks on bytes (size, depth, syntax, an object): 0 with the
 * object in *out, or the HTTP status to answer with a message in msg.
 * Pure; what the fuzzers call.
 */
int	http_json_load(const uint8_t *p, size_t n, json_t **out, char *msg,
	    size_t msglen);

/*
 * A request's header block as the server's guard reads it before any
 * body: the request line's method and path (without query), the
 * Content-Length and whether the body is chunked. hdr is NUL-terminated
 * and is cut up in place; path is allocated (http_head_free). bad: the
 * request line or a length is malformed.
 */
struct http_head {
	const char	*method;	/* points into hdr */
	char		*path;
	size_t		 content_length;
	int		 chunked;
	int		 bad;
};
void	http_head_parse(char *hdr, struct http_head *h);
void	http_head_free(struct http_head *h);

struct http_client;

/*
 * Completion: err is ASSAY_OK with the HTTP status and body, or a transport
 * error (ASSAY_ERR_NET, ASSAY_ERR_TIMEOUT, ASSAY_ERR_PERM for a peer whose
 * certificate CN was not the expected one) with status 0.
 */
typedef void (*http_client_cb)(int err, int status, const uint8_t *body,
	    size_t len, void *arg);

/*
 * From inside a completion callback only: take the body it was handed
 * (NUL-terminated; the caller frees it) instead of copying it. NULL if
 * body is not the body being delivered on this thread.
 */
uint8_t	*http_client_body_take(const uint8_t *body);
/* In a completion callback: the answer's Retry-After seconds (0: none). */
int	http_client_retry_after(void);

/* The server and client take their own reference on ctx. */
struct http_client *http_client_new(struct event_base *base, SSL_CTX *ctx);
/* Cancels requests still outstanding: their callbacks are not called. */
void	http_client_free(struct http_client *c);
/*
 * Keep-alive (default off): after a complete response without "Connection:
 * close", the connection is parked, at most one per target host:port and
 * expected CN, for HTTP_CLIENT_IDLE_SEC s (http_int.h; less than the
 * server's idle timeout); the next request with the same target and
 * expected CN goes over it, with the peer identity verified at its
 * handshake. If the server had closed it before any of the response came,
 * the request is sent once more on a fresh connection. For clients that
 * talk to few servers in sequence (an agent); off, every request has its
 * own connection ("Connection: close"). Off also closes parked ones.
 * ASSAY_HTTP_NO_KEEPALIVE=1 in the environment keeps it off (a balancer
 * that wants one connection per request).
 */
void	http_client_set_keepalive(struct http_client *c, int on);
/*
 * Keep-alive: park at most n connections at once (0, the default: no
 * cap). A connection that would be one too many is closed instead, so a
 * client polling more servers than it has descriptors for keeps a stable
 * subset of them open and opens fresh (resumed) connections to the rest.
 */
void	http_client_set_max_idle(struct http_client *c, size_t n);
/*
 * Resolve host names with this evdns base (asynchronously, on the
 * client's loop) instead of the blocking system resolver. Not owned.
 */
struct evdns_base;
void	http_client_set_dns(struct http_client *c, struct evdns_base *dns);
/*
 * Start one request; cb is called exactly once on the loop thread (never
 * from inside this call). expect_cn: the server certificate's CN must equal
 * it (NULL: any certificate the CA verifies). ctype/body may be NULL.
 * A non-zero return (bad arguments) means the request was not started and
 * cb will not be called; transport failures always arrive through cb.
 */
int	http_client_request(struct http_client *c, const char *method,
	    const char *host, uint16_t port, const char *path,
	    const char *ctype, const void *body, size_t len, int timeout_sec,
	    const char *expect_cn, http_client_cb cb, void *arg);

/* The same with a response body limit of max_body (0: HTTP_CLIENT_MAX_BODY). */
int	http_client_request_max(struct http_client *c, const char *method,
	    const char *host, uint16_t port, const char *path,
	    const char *ctype, const void *body, size_t len, int timeout_sec,
	    const char *expect_cn, size_t max_body, http_client_cb cb, void *arg);

/* Blocking request on a private event loop (tools, tests). *resp is NUL-terminated. */
int	http_request_sync(SSL_CTX *ctx, const char *method, const char *host,
	    uint16_t port, const char *path, const char *ctype, const void *body,
	    size_t len, int timeout_sec, const char *expect_cn, int *status,
	    uint8_t **resp, size_t *resp_len);

/* "host:port" / "[v6]:port" split; ASSAY_ERR_INVAL on bad input. */
int	http_split_hostport(const char *s, char *host, size_t hostlen, uint16_t *port);

#endif
