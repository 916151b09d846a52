/*
 * http_int.h — internals shared by http.c (server) and http_client.c:
 * the method table, limits and socket helpers. Not for other modules.
 */
#ifndef ASSAY_HTTP_INT_H
#define ASSAY_HTTP_INT_H

#include <stddef.h>
#include <stdint.h>

#include <event2/http.h>
#include <event2/util.h>

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

#endif
