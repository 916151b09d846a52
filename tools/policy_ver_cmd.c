/*
 * policy_ver_cmd.c — assayctl's commands on a policy's versions through
 * the verifier's API: list them (hash, uploader, signer), put an earlier
 * one back in force (rollback), put the canary in force (promote), and
 * preview a candidate against the hosts' retained evidence without
 * changing anything. Upload (with --canary) is admin.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/appraise/policy.h"
#include "common/proto/policy_env.h"
#include "common/xmalloc.h"
#include "tools/admin.h"

int
cmd_policy_versions(struct cmd_args *a)
{
	struct ctl *c = a->ctl;
	json_t *j = NULL, *e, *can;
	char *path, tbuf[32];
	size_t i;
	int r;

	path = xasprintf("/v1/policies/%s/versions", a->pos[0]);
	r = ctl_call(c, "GET", path, NULL, NULL, 0, &j, NULL);
	free(path);
	if (r != 0 || c->json) {
		json_decref(j);
		return r;
	}
	printf("%-3s %-8s %-20s %-16s %-12s %s\n", "", "VERSION", "CREATED",
	    "SHA256", "UPLOADER", "SIGNER");
	json_array_foreach(json_object_get(j, "versions"), i, e) {
		json_int_t n = json_integer_value(json_object_get(e, "version"));
		int cur = n == json_integer_value(json_object_get(j, "in_force"));
		int cny = (can = json_object_get(j, "canary")) != NULL &&
		    n == json_integer_value(json_object_get(can, "version"));

		printf("%-3s %-8lld %-20s %-16.16s %-12s %s\n", cur ? "*" :
		    cny ? "c" : "", (long long)n, ctl_when(json_integer_value(
		    json_object_get(e, "created")), tbuf, sizeof(tbuf)),
		    ctl_str(e, "sha256"), ctl_str(e, "uploader"), ctl_str(e, "signer"));
	}
	if ((can = json_object_get(j, "canary")) != NULL && json_is_object(can))
		printf("(* in force, c canary on %s)\n", ctl_str(can, "agents"));
	json_decref(j);
	return 0;
}

int
cmd_policy_rollback(struct cmd_args *a)
{
	struct ctl *c = a->ctl;
	json_t *j = NULL;
	char *path, *body, *end;
	long long n = strtoll(a->pos[1], &end, 10);
	int r;

	if (*a->pos[1] == '\0' || *end != '\0' || n < 1) {
		fprintf(stderr, "assayctl: VERSION is a number from 1\n");
		return 2;
	}
	path = xasprintf("/v1/policies/%s/rollback", a->pos[0]);
	body = xasprintf("{\"version\":%lld}", n);
	r = ctl_call(c, "POST", path, "application/json", body, strlen(body),
	    &j, NULL);
	if (r == 0 && !c->json)
		printf("policy %s: version %lld in force (%lld agents judged "
		    "again)\n", a->pos[0], n, (long long)json_integer_value(
		    json_object_get(j, "agents")));
	json_decref(j);
	free(body);
	free(path);
	return r;
}

int
cmd_policy_promote(struct cmd_args *a)
{
	struct ctl *c = a->ctl;
	json_t *j = NULL;
	char *path;
	int r;

	path = xasprintf("/v1/policies/%s/promote", a->pos[0]);
	r = ctl_call(c, "POST", path, NULL, NULL, 0, &j, NULL);
	if (r == 0 && !c->json)
		printf("policy %s: canary version %lld in force for every "
		    "agent\n", a->pos[0], (long long)json_integer_value(
		    json_object_get(j, "version")));
	json_decref(j);
	free(path);
	return r;
}

/* One host of a preview report, as lines. */
static void
preview_host(json_t *h)
{
	json_t *f, *e;
	size_t i, k;

	printf("%-24s %-10s -> %s\n", ctl_str(h, "agent"), ctl_str(h, "now"),
	    ctl_str(h, "would_be"));
	if (json_is_string(json_object_get(h, "note")))
		printf("    note: %s\n", ctl_str(h, "note"));
	json_array_foreach(json_object_get(h, "failures"), i, f) {
		printf("    %s: %s\n", ctl_str(f, "id"), ctl_str(f, "detail"));
		json_array_foreach(json_object_get(f, "entries"), k, e)
			printf("      %s %s\n", ctl_str(e, "digest"), ctl_str(e, "path"));
	}
}

int
cmd_policy_preview(struct cmd_args *a)
{
	struct ctl *c = a->ctl;
	const char *ctype = "application/yaml";
	json_t *j = NULL, *h;
	uint8_t *text;
	size_t len, i;
	char *path;
	int r;

	if (cmd_load(a->pos[1], POLICY_ENV_MAX, &text, &len) != 0)
		return 2;
	if (policy_env_sniff(text, len))
		ctype = POLICY_ENV_CTYPE;
	path = xasprintf("/v1/policies/%s/preview", a->pos[0]);
	r = ctl_call(c, "POST", path, ctype, text, len, &j, NULL);
	free(path);
	free(text);
	if (r != 0 || c->json) {
		json_decref(j);
		return r;
	}
	json_array_foreach(json_object_get(j, "hosts"), i, h)
		preview_host(h);
	printf("%lld of %lld hosts would fail\n",
	    (long long)json_integer_value(json_object_get(j, "would_fail")),
	    (long long)json_array_size(json_object_get(j, "hosts")));
	r = json_integer_value(json_object_get(j, "would_fail")) > 0 ? 1 : 0;
	json_decref(j);
	return r;
}
