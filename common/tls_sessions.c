/*
 * tls_sessions.c — the client's TLS session cache (tls_sessions.h): a map
 * of "host:port" to a DER-encoded session and its creation time.
 */
#include <stdlib.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/strmap.h"
#include "common/tls_sessions.h"
#include "common/xmalloc.h"

/* Larger encodings are not kept (a session with a huge peer chain). */
#define TLS_SESSION_DER_MAX	(64 * 1024)

struct cached_session {
	time_t		 when;		/* SSL_SESSION_get_time */
	size_t		 len;
	unsigned char	 der[];
};

struct tls_sessions {
	struct strmap	*map;		/* key -> struct cached_session */
};

struct tls_sessions *
tls_sessions_new(void)
{
	struct tls_sessions *s = xcalloc(1, sizeof(*s));

	s->map = strmap_new();
	return s;
}

void
tls_sessions_clear(struct tls_sessions *s)
{
	const char *key;
	void *val;
	size_t pos = 0;

	while (strmap_next(s->map, &pos, &key, &val))
		free(val);
	strmap_free(s->map);
	s->map = strmap_new();
}

void
tls_sessions_free(struct tls_sessions *s)
{
	if (s == NULL)
		return;
	tls_sessions_clear(s);
	strmap_free(s->map);
	free(s);
}

void
tls_sessions_drop(struct tls_sessions *s, const char *key)
{
	free(strmap_del(s->map, key));
}

void
tls_sessions_keep(struct tls_sessions *s, const char *key, SSL_SESSION *sess)
{
	struct cached_session *cs;
	unsigned char *p;
	int n = i2d_SSL_SESSION(sess, NULL);

	if (n <= 0 || n > TLS_SESSION_DER_MAX) {
		SSL_SESSION_free(sess);
		tls_sessions_drop(s, key);
		return;
	}
	cs = xmalloc(sizeof(*cs) + (size_t)n);
	cs->when = (time_t)SSL_SESSION_get_time(sess);
	cs->len = (size_t)n;
	p = cs->der;
	(void)i2d_SSL_SESSION(sess, &p);
	SSL_SESSION_free(sess);
	free(strmap_put(s->map, key, cs));
}

SSL_SESSION *
tls_sessions_get(struct tls_sessions *s, const char *key)
{
	struct cached_session *cs = strmap_get(s->map, key);
	const unsigned char *p;
	SSL_SESSION *sess;

	if (cs == NULL)
		return NULL;
	if (cs->when + TLS_SESSION_MAX_AGE < time(NULL)) {
		tls_sessions_drop(s, key);
		return NULL;
	}
	p = cs->der;
	if ((sess = d2i_SSL_SESSION(NULL, &p, (long)cs->len)) == NULL) {
		ERR_clear_error();
		tls_sessions_drop(s, key);
	}
	return sess;
}

int
tls_sessions_has(const struct tls_sessions *s, const char *key)
{
	return strmap_get(s->map, key) != NULL;
}

size_t
tls_sessions_count(const struct tls_sessions *s)
{
	return strmap_count(s->map);
}
