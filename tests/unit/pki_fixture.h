/*
 * pki_fixture.h — the test PKI the HTTPS suites share: a private CA with
 * verifier, admin and agent-agent1 certificates (tools/certs.c) in a
 * temporary directory, paths into it, and its removal.
 */
#ifndef ASSAY_TEST_PKI_FIXTURE_H
#define ASSAY_TEST_PKI_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#include "common/err.h"
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

static void
pki_remove(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pki_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", pki_dir);
}

#endif
