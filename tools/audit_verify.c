/*
 * audit_verify.c — "assayctl audit verify FILE": an audit export
 * (api_audit.c's JSON lines) checked offline. Every record's hash, the
 * chain (seq continuity, prev links) up to the head line, and every round
 * judged again: its job rebuilt from the record (audit_round.h) with the
 * exported policy text (SHA-256 checked), run through verify_run, and the
 * outcome, failure ids and carried state compared with what was recorded.
 * Also: a round's carried state in is the previous applied round's out,
 * and its AK is the one the last (re-)enrollment in the export bound.
 * Problems are printed naming the seq; the exit status is 1 if any.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/encode.h"
#include "common/err.h"
#include "common/strmap.h"
#include "common/xmalloc.h"
#include "common/appraise/audit_round.h"
#include "common/appraise/policy.h"
#include "common/proto/audit_rec.h"
#include "tools/audit_cmd.h"

struct averify {
	const char		*file;
	struct audit_chain	 chain;
	struct strmap		*pols;		/* sha256 hex -> struct policy */
	char			*enroll_ak;	/* AK of the last (re-)enrollment */
	json_t			*prev;		/* the record before */
	int			 header, head;
	size_t			 line, records, rounds, matched, problems;
};

static void
problem(struct averify *av, int64_t seq, const char *what)
{
	av->problems++;
	if (seq > 0)
		fprintf(stderr, "%s:%zu: seq %lld: %s\n", av->file, av->line,
		    (long long)seq, what);
	else
		fprintf(stderr, "%s:%zu: %s\n", av->file, av->line, what);
}

static void
policy_line(struct averify *av, const json_t *o)
{
	const char *sha = NULL, *name = NULL, *text = NULL;
	struct policy *p = NULL;
	char *hex = NULL;

	if (json_unpack((json_t *)o, "{s:s, s:s, s:s}", "sha256", &sha, "name",
	    &name, "text", &text) != 0) {
		problem(av, 0, "policy line without sha256, name or text");
		return;
	}
	if (policy_compile(text, strlen(text), name, &p) != 0) {
		problem(av, 0, assay_err_detail());
		return;
	}
	hex = hex_encode(policy_text_digest(p), 32);
	if (strcmp(hex, sha) != 0) {
		problem(av, 0, "policy text does not match its sha256");
		policy_unref(p);
	} else
		policy_unref(strmap_put(av->pols, sha, p));
	free(hex);
}

/* The round's carried state and AK against what came before it. */
static void
round_context(struct averify *av, int64_t seq, const json_t *rec)
{
	const json_t *in = json_object_get(rec, "inputs");
	const char *ak = json_string_value(json_object_get(in, "ak_pub"));
	const char *pk;

	if (av->enroll_ak != NULL && (ak == NULL || strcmp(ak, av->enroll_ak) != 0))
		problem(av, seq, "the round's AK is not the one the last "
		    "enrollment bound");
	if (av->prev == NULL || json_integer_value(json_object_get(av->prev,
	    "seq")) != seq - 1 || (pk = json_string_value(json_object_get(
	    av->prev, "kind"))) == NULL || strcmp(pk, "round") != 0 ||
	    !json_is_true(json_object_get(av->prev, "applied")))
		return;
	if (!json_equal(json_object_get(in, "verify_state_in"),
	    json_object_get(av->prev, "verify_state_out")))
		problem(av, seq, "verify_state_in is not the previous round's "
		    "verify_state_out");
}

static void
round_rerun(struct averify *av, int64_t seq, const json_t *rec)
{
	const char *sha = NULL;
	struct policy *pol = NULL;
	struct verify_job *j = NULL;
	char msg[1024];

	av->rounds++;
	if (json_unpack((json_t *)rec, "{s:{s:s}}", "policy", "sha256", &sha) == 0 &&
	    (pol = strmap_get(av->pols, sha)) == NULL) {
		snprintf(msg, sizeof(msg), "policy %.64s is not in the export: "
		    "round not re-run", sha);
		problem(av, seq, msg);
		return;
	}
	if (audit_round_job(rec, pol, &j) != 0) {
		snprintf(msg, sizeof(msg), "round not re-run: %s",
		    assay_err_detail());
		problem(av, seq, msg);
		return;
	}
	verify_run(j);
	if (audit_round_compare(rec, j) != 0) {
		snprintf(msg, sizeof(msg), "re-run: %s", assay_err_detail());
		problem(av, seq, msg);
	} else
		av->matched++;
	verify_job_free(j);
}

static void
record_line(struct averify *av, json_t *o)
{
	int64_t seq = json_integer_value(json_object_get(o, "seq"));
	const char *kind = json_string_value(json_object_get(o, "kind"));
	const char *ak;
	int r;

	av->records++;
	if ((r = audit_rec_check(o)) != 0) {
		problem(av, seq, assay_err_detail());
		if (r != ASSAY_ERR_CRYPTO)
			return;		/* not a record at all */
	}
	if (audit_chain_add(&av->chain, o) != 0) {
		problem(av, seq, assay_err_detail());
		/* Go on from here: later breaks are reported on their own. */
		av->chain.seq = seq;
		snprintf(av->chain.hash, sizeof(av->chain.hash), "%s",
		    json_string_value(json_object_get(o, "hash")));
	}
	if (strcmp(kind, "enroll") == 0 || strcmp(kind, "reenroll") == 0) {
		free(av->enroll_ak);
		ak = json_string_value(json_object_get(o, "ak_pub"));
		av->enroll_ak = ak != NULL ? xstrdup(ak) : NULL;
	} else if (strcmp(kind, "round") == 0) {
		round_context(av, seq, o);
		round_rerun(av, seq, o);
	}
	json_decref(av->prev);
	av->prev = json_incref(o);
}

static void
head_line(struct averify *av, const json_t *o)
{
	json_t *seq = json_object_get(o, "seq");
	const char *hash = json_string_value(json_object_get(o, "hash"));

	av->head = 1;
	if (!json_is_integer(seq) ||
	    audit_chain_head(&av->chain, json_integer_value(seq), hash) != 0)
		problem(av, 0, json_is_integer(seq) ? assay_err_detail() :
		    "head line without seq");
}

static void
one_line(struct averify *av, const char *s, size_t len)
{
	json_error_t e;
	json_t *o = json_loadb(s, len, JSON_REJECT_DUPLICATES, &e);
	const char *kind = json_string_value(json_object_get(o, "kind"));

	if (o == NULL || kind == NULL) {
		problem(av, 0, o == NULL ? "not a JSON line" : "line without kind");
	} else if (av->head) {
		problem(av, 0, "line after the head line");
	} else if (strcmp(kind, "agent") == 0) {
		av->header = 1;
	} else if (strcmp(kind, "policy") == 0 && json_object_get(o, "seq") == NULL) {
		policy_line(av, o);	/* a policy text (records have a seq) */
	} else if (strcmp(kind, "head") == 0) {
		head_line(av, o);
	} else
		record_line(av, o);
	json_decref(o);
}

static void
summary(struct averify *av)
{
	if (!av->header)
		problem(av, 0, "no agent header line");
	if (!av->head)
		problem(av, 0, "no head line: the export is cut short (records "
		    "at its end may be missing)");
	printf("agent %s: %zu records", av->chain.agent[0] != '\0' ?
	    av->chain.agent : "?", av->records);
	if (av->chain.first_seq > 0)
		printf(", seq %lld..%lld%s", (long long)av->chain.first_seq,
		    (long long)av->chain.seq, av->chain.first_seq > 1 ?
		    " (the chain starts after older records were pruned or "
		    "left out by --since)" : "");
	printf("; %zu rounds re-verified, %zu verdicts matched; %zu problems\n",
	    av->rounds, av->matched, av->problems);
}

#define POLICY_PREFIX	"{\"kind\":\"policy\","

/*
 * Each line of f to av. Pass 0: the policy lines only (a paged export
 * may bring a policy after rounds that use it); pass 1: the others;
 * pass 2 (a pipe, read once): all of them.
 */
static void
read_lines(struct averify *av, FILE *f, int pass)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int pol;

	av->line = 0;
	while ((n = getline(&line, &cap, f)) > 0) {
		av->line++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		pol = strncmp(line, POLICY_PREFIX, strlen(POLICY_PREFIX)) == 0;
		if (n == 0 || (pass == 0 && !pol) || (pass == 1 && pol))
			continue;
		if ((size_t)n > AUDIT_REC_MAX)
			problem(av, 0, "line over the record size limit");
		else
			one_line(av, line, (size_t)n);
	}
	free(line);
}

int
cmd_audit_verify(struct cmd_args *a)
{
	struct averify av = { .file = a->pos[0] };
	FILE *f;
	const char *k;
	void *val;
	size_t pos = 0;
	int pipe = strcmp(av.file, "-") == 0;

	if ((f = pipe ? stdin : fopen(av.file, "r")) == NULL) {
		perror(av.file);
		return 2;
	}
	audit_chain_init(&av.chain);
	av.pols = strmap_new();
	if (!pipe) {
		read_lines(&av, f, 0);
		rewind(f);
	}
	read_lines(&av, f, pipe ? 2 : 1);
	if (!pipe)
		fclose(f);
	summary(&av);
	while (strmap_next(av.pols, &pos, &k, &val))
		policy_unref(val);
	strmap_free(av.pols);
	free(av.enroll_ak);
	json_decref(av.prev);
	return av.problems > 0 ? 1 : 0;
}
