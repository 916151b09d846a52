/*
 * audit_cmd.c — "assayctl audit export --agent ID [--since T] [-o FILE]":
 * GET /v1/agents/ID/audit?since=UNIX&after=SEQ page by page from the
 * verifier, written as one export (JSON lines: the header once, each
 * policy once, the records in order, the last page's head line) to FILE
 * (replaced only when complete) or stdout; and the --since parser.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/strmap.h"
#include "common/xmalloc.h"
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

#define POLICY_PREFIX	"{\"kind\":\"policy\","

/*
 * One page (the verifier's answer, NUL-terminated) into out: its header
 * line if first, policy lines not written yet, its records; its head
 * line kept in *head (caller frees). *more, *last: whether and after
 * which seq the next page starts.
 */
static int
page_out(char *body, int first, struct strmap *pols, FILE *out, json_t **head,
    int *more, int64_t *last)
{
	char *line, *next, *end = body + strlen(body);
	const char *sha;
	json_t *o;

	*more = 0;
	for (line = body; line < end; line = next) {
		if ((next = strchr(line, '\n')) == NULL)
			next = end;
		else
			*next++ = '\0';
		if (*line == '\0')
			continue;
		if (next >= end) {	/* the last line: the head */
			json_decref(*head);
			if ((*head = json_loads(line, 0, NULL)) == NULL ||
			    json_unpack(*head, "{s:b, s:I}", "more", more, "last",
			    last) != 0)
				return assay_err_set(ASSAY_ERR_FORMAT, "the "
				    "verifier's answer ends without a head line");
			continue;
		}
		if (line == body && !first)
			continue;	/* the header, written once */
		if (strncmp(line, POLICY_PREFIX, strlen(POLICY_PREFIX)) == 0) {
			o = json_loads(line, 0, NULL);
			sha = json_string_value(json_object_get(o, "sha256"));
			if (sha != NULL && strmap_get(pols, sha) != NULL) {
				json_decref(o);
				continue;
			}
			if (sha != NULL)
				strmap_put(pols, sha, (void *)1);
			json_decref(o);
		}
		if (fputs(line, out) == EOF || fputc('\n', out) == EOF)
			return assay_err_set(ASSAY_ERR_IO, "write failed");
	}
	return ASSAY_OK;
}

/* Every page of id's trail since into out; 0, or an exit status. */
static int
export_pages(struct ctl *c, const char *id, int64_t since, long limit,
    FILE *out)
{
	struct strmap *pols = strmap_new();
	json_t *head = NULL;
	char path[512], *raw = NULL, *h;
	int64_t after = 0;
	int more = 1, rc = 0, first = 1;

	while (more && rc == 0) {
		snprintf(path, sizeof(path), "/v1/agents/%s/audit?since=%lld&"
		    "after=%lld&limit=%ld", id, (long long)since,
		    (long long)after, limit);
		if ((rc = admin_get_raw(c, path, &raw)) != 0)
			break;
		if (page_out(raw, first, pols, out, &head, &more, &after) != 0) {
			fprintf(stderr, "assayctl: %s\n", assay_err_detail());
			rc = 1;
		}
		first = 0;
		free(raw);
		raw = NULL;
	}
	if (rc == 0) {
		json_object_del(head, "more");
		json_object_del(head, "last");
		h = json_dumps(head, JSON_COMPACT | JSON_SORT_KEYS);
		if (h == NULL || fprintf(out, "%s\n", h) < 0)
			rc = 1;
		free(h);
	}
	json_decref(head);
	strmap_free(pols);
	return rc;
}

int
cmd_audit_export(struct cmd_args *a)
{
	const char *id = a->opt[OPT_AGENT].last, *ss = a->opt[OPT_SINCE].last;
	const char *outp = a->opt[OPT_OUTPUT].last;
	const char *ls = a->opt[OPT_LIMIT].last;
	char *tmp = NULL, *end;
	long limit = 10000;
	int64_t since = 0;
	FILE *out = stdout;
	int rc;

	if (ss != NULL && audit_parse_since(ss, clock_unix(), &since) != 0) {
		fprintf(stderr, "assayctl: --since: %s\n", assay_err_detail());
		return 2;
	}
	if (ls != NULL && ((limit = strtol(ls, &end, 10)) < 1 || limit > 10000 ||
	    *ls == '\0' || *end != '\0')) {
		fprintf(stderr, "assayctl: --limit must be 1..10000\n");
		return 2;
	}
	if (*id == '\0' || strlen(id) > 255 || strpbrk(id, "/?#%&") != NULL) {
		fprintf(stderr, "assayctl: bad agent id\n");
		return 2;
	}
	if (outp != NULL && strcmp(outp, "-") != 0) {
		tmp = xasprintf("%s.tmp", outp);
		if ((out = fopen(tmp, "w")) == NULL) {
			fprintf(stderr, "assayctl: %s: %s\n", tmp, strerror(errno));
			free(tmp);
			return 2;
		}
	}
	rc = export_pages(a->ctl, id, since, limit, out);
	if (out != stdout) {
		if (fclose(out) != 0 && rc == 0)
			rc = 1;
		if (rc == 0 && rename(tmp, outp) != 0) {
			fprintf(stderr, "assayctl: %s: %s\n", outp, strerror(errno));
			rc = 2;
		}
		if (rc != 0)
			(void)unlink(tmp);
		free(tmp);
	} else if (fflush(stdout) != 0)
		rc = 1;
	return rc;
}
