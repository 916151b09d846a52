/*
 * http_sync.c — the blocking HTTPS request for tools and tests (the
 * asynchronous client, http_client.c, on a private event loop) and the
 * "host:port" / "[v6]:port" splitter every side uses.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/err.h"
#include "common/http.h"
#include "common/xmalloc.h"

struct sync_state {
	struct event_base	*base;
	int			 done;
	int			 err;
	int			 status;
	uint8_t			*body;
	size_t			 len;
};

static void
sync_cb(int err, int status, const uint8_t *body, size_t len, void *arg)
{
	struct sync_state *st = arg;

	st->done = 1;
	st->err = err;
	st->status = status;
	if (err == ASSAY_OK) {
		st->body = xmalloc(len + 1);
		if (len > 0)
			memcpy(st->body, body, len);
		st->body[len] = '\0';
		st->len = len;
	}
	event_base_loopbreak(st->base);
}

int
http_request_sync(SSL_CTX *ctx, const char *method, const char *host,
    uint16_t port, const char *path, const char *ctype, const void *body,
    size_t len, int timeout_sec, const char *expect_cn, int *status,
    uint8_t **resp, size_t *resp_len)
{
	struct sync_state st;
	struct http_client *c = NULL;
	char detail[512];
	int r;

	*status = 0;
	*resp = NULL;
	*resp_len = 0;
	memset(&st, 0, sizeof(st));
	if ((st.base = event_base_new()) == NULL)
		return assay_err_set(ASSAY_ERR_NET, "event_base_new failed");
	c = http_client_new(st.base, ctx);
	if ((r = http_client_request(c, method, host, port, path, ctype, body,
	    len, timeout_sec, expect_cn, sync_cb, &st)) != ASSAY_OK)
		goto out;
	while (!st.done) {
		if (event_base_dispatch(st.base) == -1)
			break;
	}
	if (!st.done) {
		r = assay_err_set(ASSAY_ERR_NET, "event loop failed");
		goto out;
	}
	if ((r = st.err) != ASSAY_OK)
		goto out;
	*status = st.status;
	*resp = st.body;
	*resp_len = st.len;
	st.body = NULL;
 out:
	/* Freeing may run OpenSSL/libevent code; keep the detail. */
	snprintf(detail, sizeof(detail), "%s", assay_err_detail());
	http_client_free(c);
	event_base_free(st.base);
	free(st.body);
	if (r != ASSAY_OK)
		assay_err_set(r, "%s", detail);
	return r;
}

int
http_split_hostport(const char *s, char *host, size_t hostlen, uint16_t *port)
{
	const char *h, *he, *p;
	char *end;
	unsigned long v;
	size_t n;

	if (s == NULL || hostlen == 0)
		return assay_err_set(ASSAY_ERR_INVAL, "no address");
	if (s[0] == '[') {
		h = s + 1;
		if ((he = strchr(h, ']')) == NULL || he[1] != ':')
			goto bad;
		p = he + 2;
	} else {
		h = s;
		if ((he = strchr(s, ':')) == NULL || strchr(he + 1, ':') != NULL)
			goto bad;
		p = he + 1;
	}
	n = (size_t)(he - h);
	if (n == 0 || n >= hostlen || memchr(h, '[', n) != NULL ||
	    memchr(h, ']', n) != NULL || memchr(h, '/', n) != NULL)
		goto bad;
	if (p[0] < '0' || p[0] > '9')
		goto bad;
	errno = 0;
	v = strtoul(p, &end, 10);
	if (*end != '\0' || errno != 0 || v == 0 || v > 65535)
		goto bad;
	memcpy(host, h, n);
	host[n] = '\0';
	*port = (uint16_t)v;
	return ASSAY_OK;
 bad:
	return assay_err_set(ASSAY_ERR_INVAL, "bad address \"%s\" (want "
	    "host:port or [v6]:port)", s);
}
