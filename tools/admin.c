/*
 * admin.c — assayctl commands that talk to the verifier's admin API:
 * agents (list, show, admit, delete, attest, reset, stop, start, events),
 * policy (upload, list, show, delete), status and health; tables by
 * default, the API's JSON with --json. Each cmd_* is one row of the
 * command table (cmd.c); call() is the one way to the verifier.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/encode.h"
#include "common/appraise/policy.h"
#include "common/err.h"
#include "common/evidence/verdict.h"
#include "common/http.h"
#include "common/proto/policy_env.h"
#include "common/tls.h"
#include "common/xmalloc.h"
#include "tools/admin.h"
#include "tools/cmd.h"

/*
 * Strings in an answer may quote evidence an agent sent: whatever the
 * verifier did, nothing that reaches the admin's terminal may carry
 * control characters.
 */
static void
sanitize_json(json_t *j)
{
	const char *k;
	json_t *v;
	size_t i;
	char *c;

	if (json_is_string(j)) {
		c = text_sanitize_lines(xstrdup(json_string_value(j)));
		json_string_set(j, c);
		free(c);
	} else if (json_is_object(j)) {
		json_object_foreach(j, k, v)
			sanitize_json(v);
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			sanitize_json(v);
	}
}

int
ctl_call(struct ctl *c, const char *method, const char *path,
    const char *ctype, const void *body, size_t len, json_t **out, char **raw)
{
	char host[256];
	uint16_t port;
	SSL_CTX *ctx;
	uint8_t *resp = NULL;
	size_t rlen = 0;
	int status = 0, r;
	json_t *j = NULL;

	if (out != NULL)
		*out = NULL;
	if (http_split_hostport(c->verifier, host, sizeof(host), &port) != 0) {
		fprintf(stderr, "assayctl: --verifier must be host:port\n");
		return 2;
	}
	if ((ctx = tls_client_ctx(c->cert, c->key, c->ca)) == NULL) {
		fprintf(stderr, "assayctl: TLS: %s\n", assay_err_detail());
		return 2;
	}
	r = http_request_sync(ctx, method, host, port, path, ctype, body, len,
	    c->timeout, c->verifier_name != NULL ? c->verifier_name : "verifier",
	    &status, &resp, &rlen);
	SSL_CTX_free(ctx);
	if (r != 0) {
		fprintf(stderr, "assayctl: %s: %s\n", c->verifier, assay_err_detail());
		return 2;
	}
	if (rlen > 0 && resp[0] == '{' &&
	    (j = json_loadb((const char *)resp, rlen, 0, NULL)) != NULL)
		sanitize_json(j);
	if (status >= 400) {
		const char *msg = j != NULL ?
		    json_string_value(json_object_get(j, "error")) : NULL;

		fprintf(stderr, "assayctl: HTTP %d: %s\n", status,
		    msg != NULL ? msg : text_sanitize_lines((char *)resp));
		json_decref(j);
		free(resp);
		return 1;
	}
	if (c->json && rlen > 0 && raw == NULL)
		printf("%s\n", (const char *)resp);
	if (raw != NULL) {
		*raw = (char *)resp;
		resp = NULL;
	}
	if (out != NULL)
		*out = j;
	else
		json_decref(j);
	free(resp);
	return 0;
}

int
admin_get_raw(struct ctl *c, const char *path, char **raw)
{
	return ctl_call(c, "GET", path, NULL, NULL, 0, NULL, raw);
}

#define call ctl_call

const char *
ctl_when(json_int_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0)
		return "never";
	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

const char *
ctl_str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "-";
}

int
cmd_agents_list(struct cmd_args *args)
{
	struct ctl *c = args->ctl;
	const char *state = cmd_str(args, OPT_STATE);
	json_t *j, *arr, *a;
	size_t i;
	char *path, tbuf[32];
	int r;

	path = state != NULL ? xasprintf("/v1/agents?state=%s", state) :
	    xstrdup("/v1/agents");
	r = call(c, "GET", path, NULL, NULL, 0, &j, NULL);
	free(path);
	if (r != 0 || c->json) {
		json_decref(j);
		return r;
	}
	arr = json_object_get(j, "agents");
	printf("%-36s %-12s %-5s %-16s %-21s %s\n", "ID", "STATE", "MODE",
	    "POLICY", "LAST ATTESTED", "REASON");
	json_array_foreach(arr, i, a)
		printf("%-36s %-12s %-5s %-16s %-21s %s\n", ctl_str(a, "id"),
		    ctl_str(a, "state"), ctl_str(a, "mode"), ctl_str(a, "policy"),
		    ctl_when(json_integer_value(json_object_get(a, "last_attested")),
		    tbuf, sizeof(tbuf)), ctl_str(a, "reason"));
	json_decref(j);
	return 0;
}

int
cmd_agents_show(struct cmd_args *a)
{
	struct ctl *c = a->ctl;
	const char *id = a->pos[0];
	json_t *j, *cnt;
	char *path = xasprintf("/v1/agents/%s", id), tbuf[32];
	int r;

	r = call(c, "GET", path, NULL, NULL, 0, &j, NULL);
	free(path);
	if (r != 0 || c->json) {
		json_decref(j);
		return r;
	}
	cnt = json_object_get(j, "counters");
	printf("id:             %s\nstate:          %s\n", ctl_str(j, "id"), ctl_str(j, "state"));
	printf("reason:         %s\n", ctl_str(j, "reason"));
	printf("detail:         %s\n", ctl_str(j, "reason_detail"));
	printf("address:        %s\npolicy:         %s\n", ctl_str(j, "address"),
	    ctl_str(j, "policy"));
	printf("last attested:  %s\n", ctl_when(json_integer_value(json_object_get(j,
	    "last_attested")), tbuf, sizeof(tbuf)));
	printf("rounds:         %lld ok, %lld failed, %lld poll errors\n",
	    (long long)json_integer_value(json_object_get(cnt, "attest_ok")),
	    (long long)json_integer_value(json_object_get(cnt, "attest_fail")),
	    (long long)json_integer_value(json_object_get(cnt, "poll_errors")));
	printf("EK:             %s\n", ctl_str(json_object_get(j, "ek"), "public_sha256"));
	printf("AK name:        %s\n", ctl_str(json_object_get(j, "ak"), "name"));
	json_decref(j);
	return 0;
}

int
cmd_agents_admit(struct cmd_args *a)
{
	struct ctl *c = a->ctl;
	const char *id = a->pos[0], *v;
	json_t *body = json_object(), *j;
	char *path, *s;
	int r;

	if ((v = cmd_str(a, OPT_POLICY)) != NULL)
		json_object_set_new(body, "policy", json_string(v));
	if ((v = cmd_str(a, OPT_ADDRESS)) != NULL)
		json_object_set_new(body, "address", json_string(v));
	if ((v = cmd_str(a, OPT_INTERVAL)) != NULL)
		json_object_set_new(body, "interval", json_integer(atoi(v)));
	s = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	path = xasprintf("/v1/agents/%s", id);
	r = call(c, "PUT", path, "application/json", s, strlen(s), &j, NULL);
	if (r == 0 && !c->json)
		printf("%s: %s (policy %s)\n", id, ctl_str(j, "state"), ctl_str(j, "policy"));
	json_decref(j);
	free(path);
	free(s);
	return r;
}

int
cmd_agents_events(struct cmd_args *a)
{
	struct ctl *c = a->ctl;
	const char *id = a->pos[0], *limit = cmd_str(a, OPT_LIMIT);
	json_t *j, *e;
	size_t i;
	char *path, tbuf[32];
	int r;

	path = xasprintf("/v1/agents/%s/events?limit=%s", id,
	    limit != NULL ? limit : "20");
	r = call(c, "GET", path, NULL, NULL, 0, &j, NULL);
	free(path);
	if (r != 0 || c->json) {
		json_decref(j);
		return r;
	}
	json_array_foreach(json_object_get(j, "events"), i, e)
		printf("%s %-13s %-11s -> %-11s %-18s %s\n",
		    ctl_when(json_integer_value(json_object_get(e, "time")), tbuf, sizeof(tbuf)),
		    ctl_str(e, "type"), ctl_str(e, "old_state"), ctl_str(e, "new_state"),
		    ctl_str(e, "failure_id"), ctl_str(e, "detail"));
	json_decref(j);
	return 0;
}

static int
agents_action(struct ctl *c, const char *method, const char *id, const char *action)
{
	json_t *j = NULL;
	char *path = action != NULL ? xasprintf("/v1/agents/%s/%s", id, action) :
	    xasprintf("/v1/agents/%s", id);
	int r;

	r = call(c, method, path, "application/json", "{}", 2, &j, NULL);
	if (r == 0 && !c->json)
		printf("%s: %s\n", id, action == NULL ? "deleted" :
		    json_object_get(j, "state") != NULL ? ctl_str(j, "state") : ctl_str(j, "status"));
	json_decref(j);
	free(path);
	return r;
}

/* Why one agent is in its state, in plain words. */
static int
status_one(struct ctl *c, const char *id)
{
	const struct failure_def *fd;
	json_t *j;
	char *path = xasprintf("/v1/agents/%s", id), tbuf[32], *detail, *item, *save;
	const char *state, *reason;
	int r;

	r = call(c, "GET", path, NULL, NULL, 0, &j, NULL);
	free(path);
	if (r != 0 || c->json) {
		json_decref(j);
		return r;
	}
	state = ctl_str(j, "state");
	reason = json_string_value(json_object_get(j, "reason"));
	printf("%s is %s (since %s).\n", id, state,
	    ctl_when(json_integer_value(json_object_get(j, "last_event")), tbuf, sizeof(tbuf)));
	if (strcmp(state, "trusted") == 0)
		printf("Its last attestation (%s) passed every check of policy %s.\n",
		    ctl_when(json_integer_value(json_object_get(j, "last_attested")), tbuf,
		    sizeof(tbuf)), ctl_str(j, "policy"));
	else if (strcmp(state, "registered") == 0)
		printf("It is enrolled but not admitted: give it a policy with "
		    "'assayctl agents admit %s --policy NAME'.\n", id);
	else if (strcmp(state, "pending") == 0)
		printf("It is admitted; its first attestation has not finished yet.\n");
	else if (strcmp(state, "stopped") == 0)
		printf("An admin paused it: 'assayctl agents start %s' resumes it.\n", id);
	if (reason != NULL) {
		fd = failure_lookup(reason);
		printf("\nWhy: %s (%s).\n", fd != NULL ? fd->what : "unknown check", reason);
		/* The detail lists the first failure, then "; id: detail" for others. */
		detail = xstrdup(ctl_str(j, "reason_detail"));
		for (item = strtok_r(detail, ";", &save); item != NULL;
		    item = strtok_r(NULL, ";", &save)) {
			while (*item == ' ')
				item++;
			printf("  - %s\n", item);
		}
		free(detail);
		if (strcmp(state, "untrusted") == 0)
			printf("\nUntrusted stays until an admin resets it ('assayctl agents "
			    "reset %s') or assigns a policy that allows what was found.\n", id);
		else if (strcmp(state, "unreachable") == 0)
			printf("\nUnreachable is not an integrity failure: the verifier keeps "
			    "retrying with backoff.\n");
	}
	json_decref(j);
	return 0;
}

/* Every agent that is not trusted, with its reason. */
static int
status_all(struct ctl *c)
{
	json_t *j, *a;
	size_t i, n = 0, bad = 0;
	int r;

	if ((r = call(c, "GET", "/v1/agents", NULL, NULL, 0, &j, NULL)) != 0 || c->json) {
		json_decref(j);
		return r;
	}
	json_array_foreach(json_object_get(j, "agents"), i, a) {
		const char *st = ctl_str(a, "state"), *reason = ctl_str(a, "reason");
		const struct failure_def *fd = failure_lookup(reason);

		n++;
		if (strcmp(st, "trusted") == 0)
			continue;
		bad++;
		printf("%-36s %-12s %s%s%s\n", ctl_str(a, "id"), st, reason,
		    fd != NULL ? ": " : "", fd != NULL ? fd->what : "");
	}
	printf("%zu agents, %zu trusted, %zu not\n", n, n - bad, bad);
	json_decref(j);
	return 0;
}

int
cmd_agents_post(struct cmd_args *a)
{
	return agents_action(a->ctl, "POST", a->pos[0], a->cmd->words[1]);
}

int
cmd_agents_delete(struct cmd_args *a)
{
	return agents_action(a->ctl, "DELETE", a->pos[0], NULL);
}

int
cmd_status(struct cmd_args *a)
{
	return a->npos > 0 ? status_one(a->ctl, a->pos[0]) : status_all(a->ctl);
}

int
cmd_policy_list(struct cmd_args *a)
{
	struct ctl *c = a->ctl;
	json_t *j = NULL, *p;
	size_t i;
	int r;

	if ((r = call(c, "GET", "/v1/policies", NULL, NULL, 0, &j, NULL)) != 0 ||
	    c->json) {
		json_decref(j);
		return r;
	}
	printf("%-24s %-8s %s\n", "NAME", "AGENTS", "QUOTED PCRS");
	json_array_foreach(json_object_get(j, "policies"), i, p)
		printf("%-24s %-8lld %s\n", ctl_str(p, "name"),
		    (long long)json_integer_value(json_object_get(p, "agents")),
		    ctl_str(p, "quote_pcrs"));
	json_decref(j);
	return 0;
}

/*
 * The Content-Type of an upload: a signed policy (DSSE envelope) goes as
 * is, once its statement names the policy it is uploaded as (parsed
 * only: the verifier checks the signature); anything else is YAML up to
 * POLICY_TEXT_MAX. 0, or 1/2 after printing why.
 */
static int
upload_type(const char *file, const char *name, const uint8_t *text,
    size_t len, const char **ctype)
{
	struct policy_stmt s;
	int r = 0;

	*ctype = "application/yaml";
	if (!policy_env_sniff(text, len)) {
		if (len <= POLICY_TEXT_MAX)
			return 0;
		fprintf(stderr, "assayctl: %s: larger than %u bytes\n", file,
		    POLICY_TEXT_MAX);
		return 2;
	}
	*ctype = POLICY_ENV_CTYPE;
	if (policy_env_open(text, len, NULL, &s) != 0) {
		fprintf(stderr, "assayctl: %s: %s\n", file, assay_err_detail());
		return 1;
	}
	if (strcmp(s.name, name) != 0) {
		fprintf(stderr, "assayctl: %s: the signed policy is named %s, "
		    "not %s (the name is signed: upload it as %s or sign it "
		    "again)\n", file, s.name, name, s.name);
		r = 1;
	}
	policy_stmt_free(&s);
	return r;
}

int
cmd_policy_upload(struct cmd_args *a)
{
	struct ctl *c = a->ctl;
	const char *name = a->pos[0], *ctype, *canary;
	json_t *j = NULL;
	uint8_t *text;
	char *path;
	size_t len;
	int r;

	if (cmd_load(a->pos[1], POLICY_ENV_MAX, &text, &len) != 0)
		return 2;
	if ((r = upload_type(a->pos[1], name, text, len, &ctype)) != 0) {
		free(text);
		return r;
	}
	canary = cmd_str(a, OPT_CANARY);
	path = canary != NULL ? xasprintf("/v1/policies/%s?canary=%s", name,
	    canary) : xasprintf("/v1/policies/%s", name);
	r = call(c, "PUT", path, ctype, text, len, &j, NULL);
	if (r == 0 && !c->json)
		printf("policy %s version %lld uploaded%s%s%s (%lld agents use "
		    "it)\n", name, (long long)json_integer_value(
		    json_object_get(j, "version")), canary != NULL ?
		    ", tried first on " : "", canary != NULL ? canary : "",
		    json_is_string(json_object_get(j, "signer")) ?
		    ", signed" : "",
		    (long long)json_integer_value(json_object_get(j, "agents")));
	json_decref(j);
	free(path);
	free(text);
	return r;
}

int
cmd_policy_show(struct cmd_args *a)
{
	struct ctl *c = a->ctl;
	json_t *j = NULL;
	char *path, *raw = NULL;
	int r;

	path = xasprintf("/v1/policies/%s", a->pos[0]);
	/* The API answers JSON to us; print the policy text itself. */
	r = call(c, "GET", path, NULL, NULL, 0, &j, &raw);
	if (r == 0 && j != NULL && !c->json)
		fputs(ctl_str(j, "text"), stdout);
	else if (r == 0 && raw != NULL)
		fputs(raw, stdout);
	json_decref(j);
	free(raw);
	free(path);
	return r;
}

int
cmd_policy_delete(struct cmd_args *a)
{
	char *path;
	int r;

	path = xasprintf("/v1/policies/%s", a->pos[0]);
	if ((r = call(a->ctl, "DELETE", path, NULL, NULL, 0, NULL, NULL)) == 0)
		printf("policy %s deleted\n", a->pos[0]);
	free(path);
	return r;
}

/* The verifiers sharing the database: name, live, leases, heartbeat age. */
int
cmd_nodes(struct cmd_args *a)
{
	struct ctl *c = a->ctl;
	json_t *j = NULL, *n;
	char *raw = NULL;
	size_t i;
	int r;

	r = call(c, "GET", "/v1/nodes", NULL, NULL, 0, &j, &raw);
	if (r == 0 && c->json && raw != NULL)
		printf("%s\n", raw);
	else if (r == 0) {
		printf("%-24s %-5s %7s %12s  %s\n", "NODE", "LIVE", "LEASES",
		    "HEARTBEAT", "STATUS");
		json_array_foreach(json_object_get(j, "nodes"), i, n)
			printf("%-24s %-5s %7lld %10.1fs  %s%s\n", ctl_str(n, "node"),
			    json_is_true(json_object_get(n, "live")) ? "yes" : "no",
			    (long long)json_integer_value(json_object_get(n,
			    "leases")), (double)json_integer_value(
			    json_object_get(n, "heartbeat_age_ms")) / 1000.0,
			    ctl_str(n, "status"), strcmp(ctl_str(n, "node"),
			    ctl_str(j, "node")) == 0 ? " (this one)" : "");
	}
	json_decref(j);
	free(raw);
	return r;
}

int
cmd_health(struct cmd_args *a)
{
	char *raw = NULL;
	int r = call(a->ctl, "GET", "/v1/health", NULL, NULL, 0, NULL, &raw);

	if (r == 0 && raw != NULL)
		printf("%s\n", raw);
	free(raw);
	return r;
}
