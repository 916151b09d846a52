/*
 * webhook_rx.c — a test webhook receiver: an mTLS server (common/http.h)
 * with one route, POST /hook, that appends each request body and a
 * newline to a file and answers 200. Any client certificate the CA issued
 * (verifier, admin or agent) may post.
 *
 *   webhook_rx -l HOST:PORT -c CERT -k KEY -a CA -o FILE [-s STATUS]
 *   -s  answer STATUS instead of 200 (and record nothing): a failing hook
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/err.h"
#include "common/http.h"
#include "common/log.h"
#include "common/tls.h"

static const char *outpath;
static int status = 200;

static void
hook(struct http_request *r)
{
	FILE *f;

	if (status != 200) {
		http_reply_error(r, status, "configured to fail");
		return;
	}
	if ((f = fopen(outpath, "a")) == NULL) {
		http_reply_error(r, 500, "cannot open %s", outpath);
		return;
	}
	fwrite(r->body, 1, r->body_len, f);
	fputc('\n', f);
	if (fclose(f) != 0) {
		http_reply_error(r, 500, "cannot write %s", outpath);
		return;
	}
	http_reply_json(r, 200, json_object());
}

static const struct http_route routes[] = {
	{ "POST", "/hook", ROLE_VERIFIER | ROLE_ADMIN | ROLE_AGENT, hook, 64 * 1024 },
	{ NULL, NULL, 0, NULL, 0 }
};

static void
usage(void)
{
	fprintf(stderr, "usage: webhook_rx -l HOST:PORT -c CERT -k KEY -a CA "
	    "-o FILE [-s STATUS]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *listen = NULL, *cert = NULL, *key = NULL, *ca = NULL;
	struct event_base *base;
	struct http_server *srv;
	char host[256];
	uint16_t port;
	SSL_CTX *ctx;
	int ch;

	while ((ch = getopt(argc, argv, "l:c:k:a:o:s:")) != -1) {
		switch (ch) {
		case 'l': listen = optarg; break;
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 'a': ca = optarg; break;
		case 'o': outpath = optarg; break;
		case 's': status = atoi(optarg); break;
		default: usage();
		}
	}
	if (listen == NULL || cert == NULL || key == NULL || ca == NULL ||
	    outpath == NULL || status < 200 || status > 599)
		usage();
	log_init("webhook_rx", 1);
	signal(SIGPIPE, SIG_IGN);
	if (http_split_hostport(listen, host, sizeof(host), &port) != 0)
		usage();
	if ((ctx = tls_server_ctx(cert, key, ca)) == NULL) {
		fprintf(stderr, "webhook_rx: TLS: %s\n", assay_err_detail());
		return 1;
	}
	if ((base = event_base_new()) == NULL)
		return 1;
	srv = http_server_new(base, ctx, routes, NULL);
	SSL_CTX_free(ctx);
	if (http_server_listen(srv, host, port) != 0) {
		fprintf(stderr, "webhook_rx: listen %s: %s\n", listen,
		    assay_err_detail());
		return 1;
	}
	fprintf(stderr, "webhook_rx: listening on %s:%u\n", host,
	    http_server_port(srv));
	event_base_dispatch(base);
	http_server_free(srv);
	event_base_free(base);
	return 0;
}
