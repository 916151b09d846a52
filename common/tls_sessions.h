/*
 * tls_sessions.h — a client's cache of TLS sessions to resume, one per
 * "host:port", kept serialized (about 1.5 KB with the peer certificate
 * rather than about 10 KB parsed: at tens of thousands of agents, ~75 MB
 * instead of ~500 MB; decoding one per poll costs far less than the
 * handshake it saves). A session older than TLS_SESSION_MAX_AGE is not
 * offered again. One thread.
 */
#ifndef ASSAY_TLS_SESSIONS_H
#define ASSAY_TLS_SESSIONS_H

#include <stddef.h>

#include <openssl/ssl.h>

#define TLS_SESSION_MAX_AGE	3600	/* seconds */

struct tls_sessions;

struct tls_sessions *tls_sessions_new(void);
void	tls_sessions_free(struct tls_sessions *s);
/* Keep sess for key (serialized; the caller's reference is consumed). */
void	tls_sessions_keep(struct tls_sessions *s, const char *key,
	    SSL_SESSION *sess);
/* The session for key, decoded (the caller frees it), or NULL. */
SSL_SESSION *tls_sessions_get(struct tls_sessions *s, const char *key);
int	tls_sessions_has(const struct tls_sessions *s, const char *key);
void	tls_sessions_drop(struct tls_sessions *s, const char *key);
void	tls_sessions_clear(struct tls_sessions *s);
size_t	tls_sessions_count(const struct tls_sessions *s);

#endif
