/*
 * policy_mb_check.c — evaluate a compiled measured_boot: section on the
 * facts decoded from one UEFI event log (eventlog_facts): secure boot
 * state, key databases, dbx revocations, boot applications and drivers,
 * kernel command lines, required and forbidden events. Every violation is
 * one verdict failure whose detail names the offending item.
 */
#include <fnmatch.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/encode.h"
#include "common/evidence/eventlog.h"
#include "common/evidence/tpm2.h"
#include "common/evidence/verdict.h"
#include "common/xmalloc.h"
#include "common/appraise/policy_mb.h"
#include "common/appraise/policy_mb_int.h"

/* Longest piece of an untrusted string quoted in a detail. */
#define SHOW_MAX	96

/* Printable ASCII copy of s for a detail, cut at SHOW_MAX. */
static void
show(const char *s, char *out, size_t outlen)
{
	size_t i, j;

	for (i = j = 0; s[i] != '\0' && j + 4 < outlen && i < SHOW_MAX; i++)
		out[j++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (s[i] != '\0' && j + 4 <= outlen) {
		memcpy(out + j, "...", 3);
		j += 3;
	}
	out[j] = '\0';
}

static void
check_secure_boot(const struct mb_policy *p, const struct el_facts *f,
    struct verdict *vd)
{
	if (!p->secure_boot)
		return;
	if (f->secure_boot < 0 || !f->sb.present)
		verdict_fail(vd, FID_EVENTLOG_SECUREBOOT, "SecureBoot variable "
		    "not measured");
	else if (f->secure_boot == 0)
		verdict_fail(vd, FID_EVENTLOG_SECUREBOOT, "SecureBoot is off");
	else if (!f->sb.verified)
		verdict_fail(vd, FID_EVENTLOG_SECUREBOOT, "SecureBoot=1 event not "
		    "verified: its digest does not match its data");
	else if (f->sb.repeated > 0)
		verdict_fail(vd, FID_EVENTLOG_SECUREBOOT, "SecureBoot measured %zu "
		    "more times after the first (PCR 7)", f->sb.repeated);
}

struct walk {
	const struct mb_list	*allow;		/* allowlist mode */
	enum failure_id		 id;
	const char		*var;
	struct verdict		*vd;
	char			**got;		/* collect mode (dbx) */
	size_t			 n, cap;
	int			 err;
};

static int
walk_entry(const uint8_t type[16], const uint8_t owner[16],
    const struct cur *sig, void *arg)
{
	struct walk *w = arg;
	char e[MB_ENTRY_MAX], own[EFI_GUID_STRLEN];

	if (mb_sig_entry(type, sig, e) != 0) {
		w->err = 1;
		return 0;
	}
	if (w->allow != NULL) {
		if (mb_list_has(w->allow, e))
			return 0;
		efi_guid_format(owner, own);
		verdict_fail(w->vd, w->id, "%s entry %s (owner %s) not allowed",
		    w->var, e, own);
		return 0;
	}
	if (w->n == w->cap) {
		w->cap = w->cap == 0 ? 64 : w->cap * 2;
		w->got = xreallocarray(w->got, w->cap, sizeof(*w->got));
	}
	w->got[w->n++] = xstrdup(e);
	return 0;
}

/* The variable must be measured and its digest match its data. */
static int
var_usable(const struct el_var *v, enum failure_id id, const char *var,
    struct verdict *vd)
{
	if (!v->present) {
		verdict_fail(vd, id, "%s not measured", var);
		return 0;
	}
	if (!v->verified) {
		verdict_fail(vd, id, "%s event not verified: its digest does "
		    "not match its data", var);
		return 0;
	}
	if (v->repeated > 0) {
		/* Firmware measures it once: later ones would go unjudged. */
		verdict_fail(vd, id, "%s measured %zu more times after the first "
		    "(PCR 7)", var, v->repeated);
		return 0;
	}
	return 1;
}

static void
check_keydb(const struct mb_list *l, const struct el_var *v, enum failure_id id,
    const char *var, struct verdict *vd)
{
	struct walk w;

	if (!l->set || !var_usable(v, id, var, vd))
		return;
	if (l->n > 0 && v->data.len == 0) {
		/* Setup mode: the OS may write PK, KEK, db and dbx itself. */
		verdict_fail(vd, id, "%s is empty (setup mode), the policy "
		    "expects its keys", var);
		return;
	}
	memset(&w, 0, sizeof(w));
	w.allow = l;
	w.id = id;
	w.var = var;
	w.vd = vd;
	if (efi_siglist_foreach(&v->data, walk_entry, &w) != 0 || w.err)
		verdict_fail(vd, id, "%s signature lists are malformed", var);
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
check_dbx(const struct mb_list *l, const struct el_var *v, struct verdict *vd)
{
	struct walk w;
	size_t i;
	const char *s;

	if (!l->set || !var_usable(v, FID_EVENTLOG_DBX, "dbx", vd))
		return;
	memset(&w, 0, sizeof(w));
	if (efi_siglist_foreach(&v->data, walk_entry, &w) != 0 || w.err) {
		verdict_fail(vd, FID_EVENTLOG_DBX, "dbx signature lists are "
		    "malformed");
		goto out;
	}
	if (w.n > 0)
		qsort(w.got, w.n, sizeof(*w.got), str_cmp);
	for (i = 0; i < l->n; i++) {
		s = l->v[i];
		if (w.n == 0 || bsearch(&s, w.got, w.n, sizeof(*w.got),
		    str_cmp) == NULL)
			verdict_fail(vd, FID_EVENTLOG_DBX, "dbx lacks required "
			    "revocation %s", s);
	}
 out:
	for (i = 0; i < w.n; i++)
		free(w.got[i]);
	free(w.got);
}

static void
check_apps(const struct mb_policy *p, const struct el_facts *f,
    struct verdict *vd)
{
	const struct tpm2_hash *h = tpm2_hash_by_alg(p->bank);
	const struct el_app *a;
	const struct mb_list *l;
	enum failure_id id;
	const char *what;
	char file[SHOW_MAX + 8], *hex, *e;
	size_t i;

	if (!p->apps.set && !p->drivers.set)
		return;
	if (f->bank != p->bank) {
		verdict_fail(vd, p->apps.set ? FID_EVENTLOG_BOOT_APP :
		    FID_EVENTLOG_DRIVER, "event log facts are in bank 0x%04x, the "
		    "policy needs %s", f->bank, h != NULL ? h->name : "?");
		return;
	}
	for (i = 0; i < f->napps && i < EL_MAX_ITEMS; i++) {
		a = &f->app[i];
		/* The kind comes from the PCR (bound), not the event type. */
		if (a->kind == EL_CODE_APP) {
			l = &p->apps;
			id = FID_EVENTLOG_BOOT_APP;
			what = "boot application";
		} else {
			l = &p->drivers;
			id = FID_EVENTLOG_DRIVER;
			what = "driver";
		}
		if (!l->set)
			continue;
		efi_devpath_file(&a->devpath, file, sizeof(file));
		if (a->digest == NULL) {
			verdict_fail(vd, id, "%s on PCR %u%s%s has no %s digest",
			    what, a->pcr, file[0] != '\0' ? " " : "", file,
			    h->name);
			continue;
		}
		hex = hex_encode(a->digest, h->size);
		e = xasprintf("%s:%s", h->name, hex);
		free(hex);
		if (!mb_list_has(l, e))
			verdict_fail(vd, id, "%s %s on PCR %u%s%s not allowed",
			    what, e, a->pcr, file[0] != '\0' ? " " : "", file);
		free(e);
	}
}

static int
cmd_matches(const struct mb_cmd *c, const char *s)
{
	switch (c->kind) {
	case MB_CMD_EXACT:
		return strcmp(c->s, s) == 0;
	case MB_CMD_RE:
		return regexec(&c->re, s, 0, NULL, 0) == 0;
	case MB_CMD_GLOB:
		return fnmatch(c->s, s, 0) == 0;
	}
	return 0;
}

static int
cmd_allowed(const struct mb_policy *p, const char *s)
{
	for (size_t j = 0; j < p->ncmd; j++)
		if (cmd_matches(&p->cmd[j], s))
			return 1;
	return 0;
}

/* A LoadOptions digest (PCR 9) can only match exact lines. */
static int
tag_allowed(const struct mb_policy *p, const struct el_facts *f, size_t t)
{
	for (size_t j = 0; j < p->ncmd; j++)
		if (p->cmd[j].kind == MB_CMD_EXACT &&
		    eventlog_tag_is_cmdline(f, t, p->cmd[j].s) == 1)
			return 1;
	return 0;
}

/*
 * Every command line the bound log measured must be allowed: text ones
 * (GRUB, systemd-boot) verified against their digest and matching an
 * entry, the EFI stub's LoadOptions digests matching an exact entry. One
 * allowed line never excuses another; none measured at all fails too.
 */
static void
check_cmdline(const struct mb_policy *p, const struct el_facts *f,
    struct verdict *vd)
{
	const struct el_string *cl;
	char buf[SHOW_MAX + 8];
	size_t i, n, seen = 0;

	if (!p->cmd_set)
		return;
	n = f->ncmdline < 16 ? f->ncmdline : 16;
	for (i = 0; i < n; i++) {
		cl = &f->cmdline[i];
		seen++;
		show(cl->s != NULL ? cl->s : "", buf, sizeof(buf));
		if (!cl->verified)
			verdict_fail(vd, FID_EVENTLOG_CMDLINE, "kernel command line "
			    "(PCR %u) '%s' not verified: its digest does not match "
			    "its text", cl->pcr, buf);
		else if (cl->s == NULL || !cmd_allowed(p, cl->s))
			verdict_fail(vd, FID_EVENTLOG_CMDLINE, "kernel command line "
			    "(PCR %u) '%s' not allowed", cl->pcr, buf);
	}
	for (i = 0; i < f->ntags && i < 8; i++) {
		if (f->tag[i].id != EL_TAG_LOAD_OPTIONS)
			continue;
		seen++;
		if (!tag_allowed(p, f, i))
			verdict_fail(vd, FID_EVENTLOG_CMDLINE, "kernel command line "
			    "measured as a LoadOptions digest (PCR 9, event %zu) that "
			    "no exact entry matches", f->tag[i].seq);
	}
	if (f->nunjudged_cmd > 0)
		verdict_fail(vd, FID_EVENTLOG_CMDLINE, "%zu event(s) in PCR 8 (first: "
		    "event %zu) whose data is not what their digest hashes: a "
		    "command line could hide behind them", f->nunjudged_cmd,
		    f->unjudged_seq);
	if (f->ntags_dropped > 0)
		verdict_fail(vd, FID_EVENTLOG_CMDLINE, "%zu more tagged PCR 9 events "
		    "than can be judged", f->ntags_dropped);
	if (seen == 0)
		verdict_fail(vd, FID_EVENTLOG_CMDLINE, "no kernel command line measured");
}

static const char *
type_str(uint32_t type, char *buf, size_t len)
{
	const char *nm;

	if ((nm = eventlog_type_name(type)) != NULL)
		return nm;
	snprintf(buf, len, "0x%08x", type);
	return buf;
}

static void
check_events(const struct mb_policy *p, const struct el_facts *f,
    struct verdict *vd)
{
	const struct el_string *s;
	char buf[SHOW_MAX + 8], tb[16];
	size_t i, j, n;

	for (i = 0; i < p->require.n; i++)
		if (!el_saw(f, p->require.v[i]))
			verdict_fail(vd, FID_EVENTLOG_EVENT, "required event %s "
			    "not in the log", type_str(p->require.v[i], tb,
			    sizeof(tb)));
	for (i = 0; i < p->forbid.n; i++)
		if (el_saw(f, p->forbid.v[i]))
			verdict_fail(vd, FID_EVENTLOG_EVENT, "forbidden event %s "
			    "in the log", type_str(p->forbid.v[i], tb,
			    sizeof(tb)));
	if ((p->require.n > 0 || p->forbid.n > 0) && f->ntypes_dropped > 0)
		verdict_fail(vd, FID_EVENTLOG_EVENT, "more distinct event types "
		    "than can be judged");
	n = f->nstrings < EL_MAX_ITEMS ? f->nstrings : EL_MAX_ITEMS;
	if (p->nactions > 0 && f->nstrings_dropped > 0)
		verdict_fail(vd, FID_EVENTLOG_EVENT, "%zu strings beyond the %d that "
		    "can be judged", f->nstrings_dropped, EL_MAX_ITEMS);
	for (i = 0; i < p->nactions; i++) {
		/* By what was extended: a relabelled type or data cannot hide it. */
		if (eventlog_bound_digest_of(f, p->actions[i], &j)) {
			show(p->actions[i], buf, sizeof(buf));
			verdict_fail(vd, FID_EVENTLOG_EVENT, "forbidden action "
			    "'%s' measured (event %zu)", buf, j);
			continue;
		}
		for (j = 0; j < n; j++) {
			s = &f->str[j];
			if ((s->type != EV_EFI_ACTION && s->type != EV_ACTION) ||
			    !s->verified || s->s == NULL ||
			    strcmp(s->s, p->actions[i]) != 0)
				continue;
			show(s->s, buf, sizeof(buf));
			verdict_fail(vd, FID_EVENTLOG_EVENT, "forbidden action "
			    "'%s' (%s, PCR %u) in the log", buf,
			    type_str(s->type, tb, sizeof(tb)), s->pcr);
			break;
		}
	}
}

void
mb_policy_check(const struct mb_policy *p, const struct el_facts *f,
    struct verdict *vd)
{
	if (p == NULL)
		return;
	check_secure_boot(p, f, vd);
	check_keydb(&p->pk, &f->pk, FID_EVENTLOG_PK, "PK", vd);
	check_keydb(&p->kek, &f->kek, FID_EVENTLOG_KEK, "KEK", vd);
	check_keydb(&p->db, &f->db, FID_EVENTLOG_DB, "db", vd);
	check_dbx(&p->dbx, &f->dbx, vd);
	check_apps(p, f, vd);
	check_cmdline(p, f, vd);
	check_events(p, f, vd);
}
