/*
 * policy_keylime.c — `assayctl policy import-keylime`: a Keylime runtime
 * policy (JSON: digests/hashes, excludes, keyrings, ima-buf,
 * verification-keys) or an old plain allowlist ("<hex>  <path>" lines) to
 * an Assay ima: policy, and keylime_regex_to_globs, which turns Keylime's
 * exclude regexes into globs or refuses them. Anything without an
 * equivalent is dropped with a warning on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/err.h"
#include "common/xmalloc.h"
#include "tools/cmd.h"
#include "tools/policy_cmd.h"
#include "tools/policy_cmd_int.h"
#include "common/appraise/policy.h"
#include "common/appraise/policy_ima.h"

int
keylime_regex_to_globs(const char *re, char *out[2], const char **why)
{
	size_t n = strlen(re), i = 0, o = 0;
	char *g = xmalloc(n + 8);
	int exact = 0, tail_any = 0;

	out[0] = out[1] = NULL;
	if (n > 0 && re[0] == '^')
		i++;
	if (n > i && re[n - 1] == '$' && (n < 2 || re[n - 2] != '\\')) {
		exact = 1;
		n--;
	}
	for (; i < n; i++) {
		if (re[i] == '\\' && i + 1 < n &&
		    strchr(".^$*+?()[]{}|\\/-", re[i + 1]) != NULL) {
			g[o++] = re[++i];
		} else if (strncmp(re + i, "[^/]*", 5) == 0 && i + 5 <= n) {
			g[o++] = '*';
			i += 4;
		} else if (strncmp(re + i, ".*", 2) == 0 && i + 2 <= n) {
			if (i + 2 != n) {
				*why = "'.*' before the end has no glob equivalent";
				goto fail;
			}
			tail_any = 1;
			i++;
		} else if (strchr(".^$*+?()[]{}|\\", re[i]) != NULL) {
			*why = "uses regex syntax with no glob equivalent";
			goto fail;
		} else
			g[o++] = re[i];
	}
	g[o] = '\0';
	if (o == 0 || g[0] != '/') {
		*why = "does not start with an absolute path";
		goto fail;
	}
	if (strstr(g, "**") != NULL) {
		*why = "would produce '**' inside a segment";
		goto fail;
	}
	if (exact && !tail_any) {
		out[0] = g;
		return 1;
	}
	/* Keylime matches at the start only: "X" is any path beginning X. */
	if (g[o - 1] == '/') {
		out[0] = xasprintf("%s**", g);
		free(g);
		return 1;
	}
	out[0] = xasprintf("%s*", g);
	out[1] = xasprintf("%s*/**", g);
	free(g);
	return 2;
 fail:
	free(g);
	return 0;
}

static void
add_excludes(struct gen *g, const char *re)
{
	const char *why = NULL;
	char *out[2];
	int k, i;

	if ((k = keylime_regex_to_globs(re, out, &why)) == 0) {
		fprintf(stderr, "warning: exclude regex '%s' dropped: %s\n",
		    re, why);
		g->warnings++;
		return;
	}
	for (i = 0; i < k; i++) {
		if (ima_glob_invalid(out[i]) != NULL) {
			fprintf(stderr, "warning: exclude regex '%s' dropped: "
			    "glob '%s' %s\n", re, out[i],
			    ima_glob_invalid(out[i]));
			g->warnings++;
			free(out[i]);
			continue;
		}
		g->excl = xreallocarray(g->excl, g->nexcl + 1, sizeof(char *));
		g->excl[g->nexcl++] = out[i];
	}
}

/* "sha256:hex" or bare hex (length names the algorithm). */
static int
keylime_digest(const char *s, char **out)
{
	static const char *by_len[] = { "sha1", "sha256", "sha384", "sha512" };
	static const size_t lens[] = { 40, 64, 96, 128 };
	size_t i;

	if (strchr(s, ':') != NULL) {
		*out = xstrdup(s);
		return 0;
	}
	for (i = 0; i < 4; i++)
		if (strlen(s) == lens[i]) {
			*out = xasprintf("%s:%s", by_len[i], s);
			return 0;
		}
	return -1;
}

/* {name: [digest, ...]} into g. */
static void
add_sets(struct gen *g, json_t *obj, int buf, const char *what)
{
	const char *k;
	json_t *v, *d;
	size_t i;
	char *dg;

	if (!json_is_object(obj))
		return;
	json_object_foreach(obj, k, v) {
		json_array_foreach(v, i, d) {
			if (!json_is_string(d) ||
			    keylime_digest(json_string_value(d), &dg) != 0) {
				fprintf(stderr, "warning: %s '%s': digest "
				    "dropped (not a known hash)\n", what, k);
				g->warnings++;
				continue;
			}
			policy_gen_add(g, k, strlen(k), dg, buf);
			free(dg);
		}
	}
}

/* Old plain allowlist: "<hex>  <path>" per line. */
static int
plain_allowlist(struct gen *g, char *text)
{
	char *line, *save = NULL, *sp, *dg;

	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if ((sp = strpbrk(line, " \t")) == NULL)
			return assay_err_set(ASSAY_ERR_FORMAT, "allowlist line "
			    "'%.60s' is not '<digest> <path>'", line);
		*sp++ = '\0';
		sp += strspn(sp, " \t");
		if (keylime_digest(line, &dg) != 0)
			return assay_err_set(ASSAY_ERR_FORMAT, "allowlist digest "
			    "'%.60s' is not a known hash", line);
		policy_gen_add(g, sp, strlen(sp), dg, 0);
		free(dg);
	}
	return ASSAY_OK;
}

/* verification-keys: one PEM key, kept as is. */
static void
add_key(struct gen *g, json_t *v)
{
	const char *k = json_string_value(v);

	if (k == NULL || k[0] == '\0')
		return;
	if (strstr(k, "-----BEGIN ") == k) {
		g->keys = xreallocarray(g->keys, g->nkeys + 1, sizeof(char *));
		g->keys[g->nkeys++] = xstrdup(k);
	} else {
		fprintf(stderr, "warning: verification-keys is not a PEM key; "
		    "dropped\n");
		g->warnings++;
	}
}

/* A Keylime runtime policy (JSON object) into g. */
static void
import_json(struct gen *g, json_t *root)
{
	json_t *v, *x;
	size_t i;

	if ((v = json_object_get(root, "digests")) == NULL)
		v = json_object_get(root, "hashes");	/* older */
	add_sets(g, v, 0, "digests");
	json_array_foreach(json_object_get(root, "excludes"), i, x)
		if (json_is_string(x))
			add_excludes(g, json_string_value(x));
	/* keyring measurements are ima-buf entries named by keyring */
	add_sets(g, json_object_get(root, "keyrings"), 1, "keyrings");
	add_sets(g, json_object_get(root, "ima-buf"), 1, "ima-buf");
	v = json_object_get(json_object_get(root, "ima"), "ignored_keyrings");
	json_array_foreach(v, i, x) {
		fprintf(stderr, "warning: ignored_keyrings '%s' has no "
		    "equivalent (its ima-buf entries follow unknown:)\n",
		    json_is_string(x) ? json_string_value(x) : "?");
		g->warnings++;
	}
	add_key(g, json_object_get(root, "verification-keys"));
}

/* The file's text (JSON policy or plain allowlist) into g. */
static int
import_text(struct gen *g, const char *path, char *text, size_t len)
{
	json_error_t je;
	json_t *root;
	int r = ASSAY_OK;

	if ((root = json_loadb(text, len, 0, &je)) == NULL) {
		if (text[strspn(text, " \t\r\n")] == '{')
			return assay_err_set(ASSAY_ERR_FORMAT, "%s: line %d: %s",
			    path, je.line, je.text);
		return plain_allowlist(g, text);
	}
	if (!json_is_object(root))
		r = assay_err_set(ASSAY_ERR_FORMAT, "not a Keylime policy");
	else
		import_json(g, root);
	json_decref(root);
	return r;
}

int
cmd_policy_import_keylime(struct cmd_args *a)
{
	const char *name = cmd_str(a, OPT_NAME);
	struct gen g;
	uint8_t *text = NULL;
	size_t len;
	int r;

	if (name == NULL)
		name = "imported";
	if (!policy_name_valid(name))
		return cmd_usage(a);
	memset(&g, 0, sizeof(g));
	if (cmd_load(a->pos[0], POLICY_CMD_FILE_MAX, &text, &len) != 0) {
		r = 2;
		goto done;
	}
	if ((r = import_text(&g, a->pos[0], (char *)text, len)) != 0 ||
	    (r = policy_gen_write(&g, name, "sha256",
	    cmd_str(a, OPT_OUTPUT))) != 0) {
		fprintf(stderr, "error: %s\n", assay_err_detail());
		r = r == ASSAY_ERR_FORMAT ? 1 : 2;
		goto done;
	}
	if (g.warnings > 0)
		fprintf(stderr, "%d warning(s): review the policy\n", g.warnings);
 done:
	free(text);
	policy_gen_free(&g);
	return r;
}
