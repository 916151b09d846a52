/*
 * audit_cmd.c — "assayctl audit export --agent ID [--since T] [-o FILE]":
 * GET /v1/agents/ID/audit?since=UNIX from the verifier, written as it
 * came (JSON lines) to FILE or stdout; and the --since parser.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/fileio.h"
#include "tools/admin.h"
#include "tools/audit_cmd.h"

static int
parse_duration(const char *s, int64_t *secs)
{
	static const struct { char unit; int64_t mul; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
		{ 'w', 7 * 86400 },
	};
	char *end;
	long long n = strtoll(s, &end, 10);

	if (end == s || n < 0 || end[0] == '\0' || end[1] != '\0')
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (units[i].unit == *end && n <= INT64_MAX / units[i].mul) {
			*secs = n * units[i].mul;
			return 0;
		}
	return -1;
}

int
audit_parse_since(const char *s, int64_t now, int64_t *out)
{
	struct tm tm;
	const char *end;
	char *e;
	long long n;
	int64_t d;

	if (s == NULL || *s == '\0')
		return assay_err_set(ASSAY_ERR_INVAL, "empty time");
	n = strtoll(s, &e, 10);
	if (*e == '\0' && n >= 0) {
		*out = n;
		return ASSAY_OK;
	}
	if (parse_duration(s, &d) == 0) {
		*out = now > d ? now - d : 0;
		return ASSAY_OK;
	}
	memset(&tm, 0, sizeof(tm));
	if (((end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) != NULL &&
	    (*end == '\0' || strcmp(end, "Z") == 0)) ||
	    ((void)memset(&tm, 0, sizeof(tm)),
	    (end = strptime(s, "%Y-%m-%d", &tm)) != NULL && *end == '\0')) {
		*out = (int64_t)timegm(&tm);
		return ASSAY_OK;
	}
	return assay_err_set(ASSAY_ERR_INVAL, "time '%.64s': not unix seconds, "
	    "ISO 8601 UTC or a duration like 2h", s);
}

int
cmd_audit_export(struct cmd_args *a)
{
	const char *id = a->opt[OPT_AGENT].last, *ss = a->opt[OPT_SINCE].last;
	const char *outp = a->opt[OPT_OUTPUT].last;
	char path[512], *raw = NULL;
	int64_t since = 0;
	int rc;

	if (ss != NULL && audit_parse_since(ss, clock_unix(), &since) != 0) {
		fprintf(stderr, "assayctl: --since: %s\n", assay_err_detail());
		return 2;
	}
	if (snprintf(path, sizeof(path), "/v1/agents/%s/audit?since=%lld", id,
	    (long long)since) >= (int)sizeof(path) || strpbrk(id, "/?#%") != NULL) {
		fprintf(stderr, "assayctl: bad agent id\n");
		return 2;
	}
	if ((rc = admin_get_raw(a->ctl, path, &raw)) != 0)
		return rc;
	if (outp == NULL || strcmp(outp, "-") == 0)
		rc = fputs(raw, stdout) < 0 ? 1 : 0;
	else if (file_write_atomic(outp, (const uint8_t *)raw,
	    strlen(raw), 0644) != 0) {
		fprintf(stderr, "assayctl: %s: %s\n", outp, assay_err_detail());
		rc = 1;
	}
	free(raw);
	return rc;
}
