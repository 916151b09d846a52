/*
 * http_int.h — internals shared by http.c (server), http_conn.c
 * (connection accounting), http_guard.c (early request guard),
 * http_client.c and http_client_pool.c (client, keep-alive): the method
 * table, limits, socket helpers, the client's and the server's structures.
 * Not for other modules.
 */
#ifndef ASSAY_HTTP_INT_H
#define ASSAY_HTTP_INT_H

#include <sys/queue.h>
#include <sys/time.h>

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/util.h>
#include <openssl/ssl.h>

#include "common/http.h"
#include "common/tls.h"

#define HTTP_DEFAULT_TIMEOUT	30
#define HTTP_MAX_HEADERS	(32 * 1024)
#define HTTP_CLIENT_MAX_BODY	(4 * (size_t)HTTP_MAX_BODY)

const char	*http_method_name(enum evhttp_cmd_type cmd);
int		 http_method_cmd(const char *name, enum evhttp_cmd_type *cmd);
/* A socket closed by the peer must not kill the daemon on write. */
void		 http_ignore_sigpipe(void);
void		 http_set_nodelay(evutil_socket_t fd);

/*
 * Client TLS session resumption (http_client.c): on by default, one cached
 * session per host:port; ASSAY_TLS_NO_RESUME=1 in the environment turns it
 * off for a client made afterwards (benchmarks compare the two). Off also
 * forgets the cached sessions. For tests and benches: handshakes completed,
 * how many of them resumed a session, sessions cached now.
 */
struct http_client;
void		 http_client_set_resumption(struct http_client *c, int on);
void		 http_client_tls_stats(const struct http_client *c,
		    uint64_t *handshakes, uint64_t *resumed, size_t *cached);
/*
 * Keep-alive (http_client_set_keepalive), for tests and benches: how long
 * a parked connection stays idle (ms; default HTTP_CLIENT_IDLE_SEC s);
 * requests sent over a parked connection, of them retried on a fresh one,
 * connections parked now.
 */
#define HTTP_CLIENT_IDLE_SEC	20
void		 http_client_set_idle_timeout_ms(struct http_client *c,
		    long ms);
void		 http_client_keepalive_stats(const struct http_client *c,
		    uint64_t *reused, uint64_t *retried, size_t *idle);

/* ------------------------------------- client internals (http_client*.c) */

struct evdns_base;
struct evbuffer_cb_entry;

struct http_client {
	struct event_base		*base;
	SSL_CTX				*ctx;
	TAILQ_HEAD(, http_creq)		 reqs;
	struct tls_sessions		*sessions;	/* by "host:port" */
	struct evdns_base		*dns;		/* async resolver, or NULL */
	struct strmap			*idle;		/* pool key -> http_idle */
	struct timeval			 idle_tv;	/* parked this long at most */
	int				 resume;
	int				 keepalive;
	size_t				 max_idle;	/* parked at most (0: no cap) */
	uint64_t			 n_handshakes;
	uint64_t			 n_resumed;
	uint64_t			 n_reused;
	uint64_t			 n_retried;
};

struct http_creq {
	TAILQ_ENTRY(http_creq)		 entry;
	struct http_client		*c;
	struct evhttp_connection	*evcon;
	struct event			*done_ev;
	struct event			*timer;
	http_client_cb			 cb;
	void				*arg;
	char				*expect_cn;
	char				 peer_cn[TLS_CN_MAX];
	char				 target[300];	/* "host:port" for messages */
	char				 host[256];
	uint16_t			 port;
	enum evhttp_cmd_type		 cmd;
	char				*path;
	char				*ctype;
	uint8_t				*req_body;	/* kept on a reused connection */
	size_t				 req_len;
	size_t				 max_body;	/* response body limit */
	int				 timeout;
	int				 cn_mismatch;
	int				 role_mismatch;	/* ROLE_* the server lacked */
	int				 peer_role;
	int				 hs_done;
	int				 finished;
	int				 err;
	int				 req_error;	/* evhttp_request_error + 1 */
	int				 sock_err;
	unsigned long			 ssl_err;
	long				 verify_result;
	int				 status;
	int				 retry_after;	/* s, from the header; 0: none */
	int				 park;		/* connection reusable after */
	int				 reused;	/* sent on a parked connection */
	int				 retried;	/* its one retry is spent */
	int				 retry_due;	/* retry from the completion event */
	struct evbuffer_cb_entry	*rx_cb;		/* counts rx */
	size_t				 rx;		/* response bytes received */
	uint8_t				*body;
	size_t				 len;
	char				 detail[768];
};

extern int	 creq_ssl_idx;	/* SSL ex_data: the request using the SSL */

/* http_client.c */
int		 creq_connect(struct http_creq *q);
void		 creq_send(struct http_creq *q, const void *body, size_t len);
void		 creq_finish(struct http_creq *q, int err);

/*
 * http_client_pool.c. creq_reuse: q takes over a parked connection for
 * its key (1), or there is none (0). creq_mark_park: q's response leaves
 * its connection reusable. creq_release_conn: after q's completion, park
 * or close its connection. creq_retry_later: q failed on a reused
 * connection before any response byte: 1 if it will be sent again
 * (creq_retry, from its completion event) instead of failing.
 */
int		 creq_reuse(struct http_creq *q, const void *body, size_t len);
void		 creq_mark_park(struct http_creq *q, struct evhttp_request *req);
void		 creq_release_conn(struct http_creq *q);
int		 creq_retry_later(struct http_creq *q);
void		 creq_retry(struct http_creq *q);
void		 pool_flush(struct http_client *c);

/* ------------------------------------------------ server (http*.c only) */

struct http_route;
struct strmap;

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
	uint64_t		 serial;	/* unique on its server */
	int			 held;		/* a request awaits a deferred reply */
	int			 refs;		/* held requests pointing here */
	int			 gone;		/* its SSL is freed; kept for refs */
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
	uint64_t		 next_serial;	/* of connections */
	TAILQ_HEAD(, http_sreq)	 held;		/* http_defer'd requests */
};


/* http.c */
const char	*status_reason(int status);
int		 route_match(const char *pattern, const char *path,
		    char **param, size_t *nparam);

/* http_conn.c */
extern pthread_once_t conn_idx_once;
void		 conn_idx_init(void);
void		 conn_unlink(struct http_conn *c);
struct http_conn *conn_of_ssl(SSL *ssl);
struct evhttp_connection *conn_evcon(struct http_conn *c);
void		 conn_arm(struct http_conn *c);
struct bufferevent *server_bevcb(struct event_base *base, void *arg);
struct http_conn *conn_hold(SSL *ssl, uint64_t *serial);
/* A held request no longer points at c (freed if its SSL is gone). */
void		 conn_unref(struct http_conn *c);
int		 conn_release(struct http_server *s, struct http_conn *c,
		    uint64_t serial, struct evhttp_connection *evcon);

/* http_guard.c */
void		 conn_input_cb(struct evbuffer *b,
		    const struct evbuffer_cb_info *info, void *arg);
void		 conn_request_done(SSL *ssl);

#endif
