/*
 * pki_fixture.h — the test PKI the HTTPS suites share: a private CA with
 * verifier, admin and agent-agent1 certificates (tools/certs.c) in a
 * temporary directory, paths into it, TLS contexts with its
 * certificates, and its removal.
 */
#ifndef ASSAY_TEST_PKI_FIXTURE_H
#define ASSAY_TEST_PKI_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#include "common/err.h"
#include "common/tls.h"
#include "tools/certs.h"

static char pki_dir[256];

/* Make the PKI under /tmp/assay-<tag>-XXXXXX; exits on failure. */
static void
pki_make(const char *tag)
{
	char *agents[] = { "agent1" };

	snprintf(pki_dir, sizeof(pki_dir), "/tmp/assay-%s-XXXXXX", tag);
	if (mkdtemp(pki_dir) == NULL ||
	    certs_init(pki_dir, NULL, agents, 1, 1, 1) != ASSAY_OK) {
		fprintf(stderr, "test setup: %s\n", assay_err_detail());
		exit(1);
	}
}

/* pki_dir/name; four results may be in use at once. */
static char *
pki_path(const char *name)
{
	static char bufs[4][512];
	static int i;
	char *b = bufs[i++ % 4];

	snprintf(b, sizeof(bufs[0]), "%s/%s", pki_dir, name);
	return b;
}

/* TLS contexts with who's certificate ("verifier", "admin", "agent-agent1"). */
static SSL_CTX *
pki_ctx(const char *who, int server)
{
	char pem[64], key[64];

	snprintf(pem, sizeof(pem), "%s.pem", who);
	snprintf(key, sizeof(key), "%s.key", who);
	return server ? tls_server_ctx(pki_path(pem), pki_path(key),
	    pki_path("ca.pem")) : tls_client_ctx(pki_path(pem), pki_path(key),
	    pki_path("ca.pem"));
}

static void
pki_remove(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pki_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", pki_dir);
}

#endif
