/*
 * result.c — the agent's copy of its own signed attestation result (the
 * verifier's EAR, a compact JWT), kept in result.path for local services
 * to present to relying parties. Push mode: the verdict carries it. Pull
 * mode: after serving a quote the agent asks the verifier for it (GET
 * /v1/agents/{id}/result) once the round has had time to be judged, and
 * its identity certificate with it (ident.c). The
 * file is replaced atomically (written beside it, then renamed); a
 * verifier that signs no results (404) is asked again only after a day.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/xmalloc.h"

/* Seconds after a quote before its result is asked (judging takes < 1 s). */
#define RESULT_FETCH_DELAY	2
/* A verifier without results.key: ask again this much later. */
#define RESULT_OFF_RETRY	86400
#define RESULT_MAX		16384

void
result_store(struct agent *a, const char *jwt, size_t len)
{
	const char *path = a->conf.result_path;
	char *text;

	if (path == NULL || *path == '\0' || jwt == NULL || len == 0)
		return;
	text = xmalloc(len + 1);
	memcpy(text, jwt, len);
	text[len] = '\n';
	if (file_write_atomic(path, (const uint8_t *)text, len + 1, 0644) != 0)
		log_warnx("result: %s", assay_err_detail());
	else
		log_debug("result: %s updated", path);
	free(text);
}

static void
fetched(int err, int status, const uint8_t *body, size_t len, void *arg)
{
	struct agent *a = arg;

	if (err != ASSAY_OK) {
		log_debug("result: %s", assay_err_detail());
		return;
	}
	if (status == 404) {
		if (!a->result_off)
			log_info("result: the verifier signs no results: asked "
			    "again in a day");
		a->result_off = clock_mono() + RESULT_OFF_RETRY;
		return;
	}
	if (status != 200 || len == 0 || len > RESULT_MAX) {
		log_warnx("result: the verifier answered HTTP %d", status);
		return;
	}
	a->result_off = 0;
	result_store(a, (const char *)body, len);
}

static int
result_wanted(struct agent *a)
{
	return a->conf.result_path != NULL && *a->conf.result_path != '\0' &&
	    (a->result_off == 0 || clock_mono() >= a->result_off);
}

static void
fetch_fire(evutil_socket_t fd, short what, void *arg)
{
	struct agent *a = arg;
	char *path;

	if (result_wanted(a)) {
		path = xasprintf("/v1/agents/%s/result", a->id);
		if (http_client_request(a->client, "GET", a->vhost, a->vport,
		    path, NULL, NULL, 0, 10, a->conf.verifier_name, fetched,
		    a) != 0)
			log_debug("result: %s", assay_err_detail());
		free(path);
	}
	if (ident_wanted(a))
		ident_fetch(a);
}

void
result_after_quote(struct agent *a)
{
	struct timeval tv = { RESULT_FETCH_DELAY, 0 };

	if (a->id == NULL || (!result_wanted(a) && !ident_wanted(a)))
		return;
	if (a->result_timer == NULL &&
	    (a->result_timer = evtimer_new(a->base, fetch_fire, a)) == NULL)
		fatalx("evtimer_new failed");
	if (!evtimer_pending(a->result_timer, NULL))
		evtimer_add(a->result_timer, &tv);
}

void
result_free(struct agent *a)
{
	if (a->result_timer != NULL)
		event_free(a->result_timer);
	a->result_timer = NULL;
}
