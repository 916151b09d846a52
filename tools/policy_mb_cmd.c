/*
 * policy_mb_cmd.c — `assayctl policy from-eventlog`: parse a known-good
 * UEFI event log, replay it, decode its facts and write a policy whose
 * measured_boot: section allows exactly what that boot measured, with
 * comments telling the admin what to review. Static pcrs: are not
 * written (they pin too much); the replayed PCRs appear as comments.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/encode.h"
#include "common/err.h"
#include "common/evidence/bind.h"
#include "common/evidence/eventlog.h"
#include "common/evidence/tpm2.h"
#include "common/xmalloc.h"
#include "tools/cmd.h"
#include "tools/policy_cmd_int.h"
#include "tools/policy_mb_cmd.h"
#include "common/appraise/policy.h"
#include "common/appraise/policy_mb.h"

#define LOG_MAX		(64u * 1024 * 1024)

/* Sorted, de-duplicated strings with an optional comment each. */
struct strset {
	struct { char *s, *note; } *v;
	size_t	n, cap;
};

static void
set_add(struct strset *ss, const char *s, const char *note)
{
	size_t i;

	for (i = 0; i < ss->n; i++)
		if (strcmp(ss->v[i].s, s) == 0)
			return;
	if (ss->n == ss->cap) {
		ss->cap = ss->cap == 0 ? 32 : ss->cap * 2;
		ss->v = xreallocarray(ss->v, ss->cap, sizeof(*ss->v));
	}
	ss->v[ss->n].s = xstrdup(s);
	ss->v[ss->n].note = note != NULL && note[0] != '\0' ?
	    xstrdup(note) : NULL;
	ss->n++;
}

static void
set_free(struct strset *ss)
{
	size_t i;

	for (i = 0; i < ss->n; i++) {
		free(ss->v[i].s);
		free(ss->v[i].note);
	}
	free(ss->v);
	memset(ss, 0, sizeof(*ss));
}

/* Valid UTF-8 without NUL (what a YAML scalar can carry verbatim). */
static int
utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t k, n;

	while (*p != '\0') {
		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0 && *p >= 0xc2)
			n = 1;
		else if ((*p & 0xf0) == 0xe0)
			n = 2;
		else if ((*p & 0xf8) == 0xf0 && *p <= 0xf4)
			n = 3;
		else
			return 0;
		for (k = 1; k <= n; k++)
			if ((p[k] & 0xc0) != 0x80)
				return 0;
		p += n + 1;
	}
	return 1;
}

/* A comment line's text: printable ASCII only. */
static void
comment_text(FILE *o, const char *s)
{
	for (; *s != '\0'; s++)
		fputc((*s >= 0x20 && *s < 0x7f) ? *s : '?', o);
}

static void
write_list(FILE *o, const char *key, const struct strset *ss)
{
	size_t i;

	if (ss->n == 0) {
		fprintf(o, "  %s: []\n", key);
		return;
	}
	fprintf(o, "  %s:\n", key);
	for (i = 0; i < ss->n; i++) {
		fputs("    - ", o);
		policy_yaml_quote(o, ss->v[i].s);
		if (ss->v[i].note != NULL) {
			fputs("    # ", o);
			comment_text(o, ss->v[i].note);
		}
		fputc('\n', o);
	}
}

struct collect {
	struct strset	*ss;
	int		 err;
};

static int
collect_entry(const uint8_t type[16], const uint8_t owner[16],
    const struct cur *sig, void *arg)
{
	struct collect *c = arg;
	char e[MB_ENTRY_MAX], g[EFI_GUID_STRLEN], note[96];

	if (mb_sig_entry(type, sig, e) != 0) {
		c->err = 1;
		return 0;
	}
	efi_guid_format(owner, g);
	snprintf(note, sizeof(note), "%s, owner %s",
	    memcmp(type, EFI_CERT_X509_GUID, 16) == 0 ? "X.509 certificate" :
	    memcmp(type, EFI_CERT_SHA256_GUID, 16) == 0 ? "SHA-256 hash" :
	    "other signature type", g);
	set_add(c->ss, e, note);
	return 0;
}

/*
 * One key database: its entries when measured and verified, otherwise a
 * comment saying why the key is left out (absent key = not checked).
 */
static void
write_keydb(FILE *o, const char *key, const char *var, const struct el_var *v,
    const char *why)
{
	struct strset ss = { 0 };
	struct collect c = { &ss, 0 };

	if (!v->present) {
		fprintf(o, "  # %s: %s was not measured in this log; not "
		    "checked.\n", key, var);
		return;
	}
	if (!v->verified) {
		fprintf(o, "  # %s: %s was measured but its event digest does "
		    "not match its data; not checked.\n", key, var);
		return;
	}
	if (efi_siglist_foreach(&v->data, collect_entry, &c) != 0 || c.err) {
		fprintf(o, "  # %s: %s signature lists are malformed; not "
		    "checked.\n", key, var);
		set_free(&ss);
		return;
	}
	fprintf(o, "  # %s\n", why);
	write_list(o, key, &ss);
	set_free(&ss);
}

static void
write_apps(FILE *o, const struct el_facts *f, const struct tpm2_hash *h)
{
	struct strset apps = { 0 }, drv = { 0 };
	const struct el_app *a;
	char file[128], note[160], *hex, *e;
	size_t i, nodigest = 0;

	for (i = 0; i < f->napps && i < EL_MAX_ITEMS; i++) {
		a = &f->app[i];
		if (a->digest == NULL) {
			nodigest++;
			continue;
		}
		efi_devpath_file(&a->devpath, file, sizeof(file));
		snprintf(note, sizeof(note), "PCR %u%s%s", a->pcr,
		    file[0] != '\0' ? " " : "", file);
		hex = hex_encode(a->digest, h->size);
		e = xasprintf("%s:%s", h->name, hex);
		free(hex);
		if (a->kind == EL_CODE_APP)
			set_add(&apps, e, note);
		else
			set_add(&drv, e, note);
		free(e);
	}
	fputs("  # Authenticode digests of the EFI applications this boot "
	    "loaded (shim,\n  # boot loader, kernel...). Add the digests of "
	    "every version you will\n  # deploy before updating them.\n", o);
	if (nodigest > 0)
		fprintf(o, "  # %zu application(s) had no %s digest and are not "
		    "listed.\n", nodigest, h->name);
	write_list(o, "boot_apps", &apps);
	if (drv.n == 0)
		fputs("  # No UEFI drivers (option ROMs...) were measured: [] "
		    "rejects any.\n  # Remove the key not to check drivers.\n",
		    o);
	else
		fputs("  # UEFI drivers (option ROMs...) measured by this "
		    "boot; hardware changes\n  # alter them.\n", o);
	write_list(o, "drivers", &drv);
	set_free(&apps);
	set_free(&drv);
}

/*
 * GRUB chain-loading a kernel with the EFI stub: the stub measures the
 * load options GRUB passed, "BOOT_IMAGE=" and GRUB's command line. Name
 * each LoadOptions digest we can explain so the policy allows it too.
 */
static void
add_loadopts(struct strset *cl, const struct el_facts *f)
{
	size_t i, t;
	char *line;

	for (t = 0; t < f->ntags && t < 8; t++) {
		if (f->tag[t].id != EL_TAG_LOAD_OPTIONS)
			continue;
		for (i = 0; i < f->ncmdline && i < 16; i++) {
			if (f->cmdline[i].s == NULL || !utf8_ok(f->cmdline[i].s))
				continue;
			line = xasprintf("BOOT_IMAGE=%s", f->cmdline[i].s);
			if (eventlog_tag_is_cmdline(f, t, line) == 1) {
				set_add(cl, line, "the EFI stub's LoadOptions (PCR 9)");
				free(line);
				break;
			}
			free(line);
		}
	}
}

static void
write_cmdlines(FILE *o, const struct el_facts *f)
{
	struct strset cl = { 0 };
	const struct el_string *s;
	size_t i, skipped = 0;

	for (i = 0; i < f->ncmdline && i < 16; i++) {
		s = &f->cmdline[i];
		if (s->s == NULL || !s->verified || !utf8_ok(s->s)) {
			skipped++;
			continue;
		}
		set_add(&cl, s->s, NULL);
	}
	add_loadopts(&cl, f);
	if (cl.n == 0) {
		fprintf(o, "  # kernel_cmdline: no verified command line was "
		    "measured%s; not checked.\n", skipped > 0 ?
		    " (some were, unverified or not UTF-8)" : "");
		if (f->ntags > 0)
			fputs("  # (an EFI stub LoadOptions digest was: an exact "
			    "entry can match it)\n", o);
		return;
	}
	fputs("  # Command lines as measured; every line a boot measures must "
	    "match an\n  # entry. \"re:<ERE>\" and \"glob:<pattern>\" entries "
	    "allow variations\n  # (e.g. kernel versions).\n", o);
	write_list(o, "kernel_cmdline", &cl);
	set_free(&cl);
}

static void
write_pcr_comments(FILE *o, const struct el_pcrs *rp, const struct tpm2_hash *h)
{
	size_t b;
	unsigned i;
	char *hex;

	for (b = 0; b < rp->nbanks; b++)
		if (rp->bank[b].alg == h->alg)
			break;
	if (b == rp->nbanks)
		return;
	fprintf(o, "# Replayed %s PCRs of this log, for reference only (not "
	    "pinned: firmware\n# updates change them):\n", h->name);
	for (i = 0; i < 8; i++) {
		hex = hex_encode(rp->bank[b].v[i], h->size);
		fprintf(o, "#   %u: %s\n", i, hex);
		free(hex);
	}
}

static int
has_action(const struct el_facts *f, const char *a)
{
	size_t i;

	for (i = 0; i < f->nstrings && i < EL_MAX_ITEMS; i++)
		if ((f->str[i].type == EV_EFI_ACTION ||
		    f->str[i].type == EV_ACTION) && f->str[i].s != NULL &&
		    strcmp(f->str[i].s, a) == 0)
			return 1;
	return 0;
}

/* The policy's head: provenance comment, name:, bank: and replayed PCRs. */
static void
write_head(FILE *o, const char *name, const char *source,
    const struct tpm2_hash *h, const struct el_pcrs *rp)
{
	fputs("# Generated by assayctl policy from-eventlog", o);
	if (source != NULL) {
		fputs(" from ", o);
		comment_text(o, source);
	}
	fputs(".\n# It allows exactly what that known-good boot measured: "
	    "review each list,\n# add what other approved machines and "
	    "updates will measure, and keep\n# the policy under version "
	    "control.\nname: ", o);
	policy_yaml_quote(o, name);
	fprintf(o, "\nbank: %s\n", h->name);
	write_pcr_comments(o, rp, h);
}

/* The measured_boot: section for the log's facts. */
static void
write_mb(FILE *o, const struct el_facts *f, const struct tpm2_hash *h)
{
	fputs("measured_boot:\n", o);
	if (f->secure_boot == 1 && f->sb.present && f->sb.verified)
		fputs("  # Secure boot was on in this log.\n"
		    "  secure_boot: required\n", o);
	else
		fprintf(o, "  # REVIEW: secure boot was %s in this log; "
		    "\"required\" would reject\n  # this machine.\n"
		    "  secure_boot: allowed\n", f->secure_boot == 1 ?
		    "on but its event does not verify" : f->secure_boot == 0 ?
		    "OFF" : "not measured");
	write_keydb(o, "pk", "PK", &f->pk, "Platform key: X.509 certificates by "
	    "SHA-256 fingerprint, hashes as\n  # themselves. Every measured "
	    "entry must be listed.");
	write_keydb(o, "kek", "KEK", &f->kek, "Key exchange keys; every "
	    "measured entry must be listed.");
	write_keydb(o, "db", "db", &f->db, "Allowed signature database; every "
	    "measured entry must be listed.");
	write_keydb(o, "dbx_contains", "dbx", &f->dbx, "Revocations this host "
	    "has applied: requiring them stops a dbx\n  # rollback. A dbx "
	    "update adds entries; nothing here needs to change.");
	write_apps(o, f, h);
	write_cmdlines(o, f);
	if (el_saw(f, EV_SEPARATOR))
		fputs("  require_events: [EV_SEPARATOR]\n", o);
	if (!has_action(f, "UEFI Debug Mode"))
		fputs("  # Firmware debug mode must not be on.\n"
		    "  forbid_actions: [\"UEFI Debug Mode\"]\n", o);
	else
		fputs("  # REVIEW: this log reports \"UEFI Debug Mode\": the "
		    "firmware debugger is on.\n", o);
}

/* The whole policy text into a new string. */
static int
write_policy(const char *name, const char *source, const struct tpm2_hash *h,
    const struct el_pcrs *rp, const struct el_facts *f, char **out)
{
	char *text = NULL;
	size_t tlen = 0;
	FILE *o;

	*out = NULL;
	if ((o = open_memstream(&text, &tlen)) == NULL)
		return assay_err_set(ASSAY_ERR_IO, "open_memstream: %s",
		    strerror(errno));
	write_head(o, name, source, h, rp);
	write_mb(o, f, h);
	if (fclose(o) != 0) {
		free(text);
		return assay_err_set(ASSAY_ERR_IO, "writing the policy failed");
	}
	*out = text;	/* caller owns it now */
	return ASSAY_OK;
}

int
policy_from_eventlog(const uint8_t *p, size_t n, const char *name,
    uint16_t bank, const char *source, char **out)
{
	const struct tpm2_hash *h;
	struct eventlog el;
	struct el_pcrs *rp = NULL;
	struct el_facts f;
	int have_el = 0, have_f = 0, r;

	*out = NULL;
	memset(&f, 0, sizeof(f));
	if ((h = tpm2_hash_by_alg(bank)) == NULL)
		return assay_err_set(ASSAY_ERR_INVAL, "unknown bank");
	if (!policy_name_valid(name))
		return assay_err_set(ASSAY_ERR_INVAL, "invalid policy name");
	if ((r = eventlog_parse(p, n, &el)) != 0)
		goto out;
	have_el = 1;
	rp = xcalloc(1, sizeof(*rp));
	if ((r = eventlog_replay(&el, rp)) != 0)
		goto out;
	if ((r = eventlog_facts(&el, bank, BIND_ALL_PCRS, &f)) != 0)
		goto out;
	have_f = 1;
	r = write_policy(name, source, h, rp, &f, out);
 out:
	free(rp);
	if (have_f)
		eventlog_facts_free(&f);
	if (have_el)
		eventlog_free(&el);
	return r;
}

/* The log file's base name as a policy name: invalid characters -> '-'. */
static char *
default_name(const char *path)
{
	const char *b = strrchr(path, '/');
	char *s;
	size_t i;

	b = b != NULL ? b + 1 : path;
	s = xstrndup(b, POLICY_NAME_MAX);
	for (i = 0; s[i] != '\0'; i++)
		if (!policy_name_valid((char[2]){ s[i], '\0' }) ||
		    s[i] == '.')
			s[i] = i > 0 ? '-' : 'x';
	if (!policy_name_valid(s)) {
		free(s);
		s = xstrdup("measured-boot");
	}
	return s;
}

/* text to outpath (NULL or "-": stdout). 0, or 2 after a message. */
static int
put_text(const char *text, const char *outpath)
{
	FILE *o;

	if (outpath == NULL || strcmp(outpath, "-") == 0) {
		fputs(text, stdout);
		return fflush(stdout) == 0 ? 0 : 2;
	}
	if ((o = fopen(outpath, "w")) == NULL) {
		fprintf(stderr, "error: %s: %s\n", outpath, strerror(errno));
		return 2;
	}
	fputs(text, o);
	if (fclose(o) != 0) {
		fprintf(stderr, "error: %s: write failed\n", outpath);
		return 2;
	}
	return 0;
}

int
cmd_policy_from_eventlog(struct cmd_args *a)
{
	const struct tpm2_hash *h;
	const char *path = a->pos[0], *bank = cmd_str(a, OPT_BANK);
	char *name = NULL, *text = NULL;
	uint8_t *log = NULL;
	size_t len = 0;
	int r = 2;

	if ((h = tpm2_hash_by_name(bank != NULL ? bank : "sha256")) == NULL)
		return cmd_usage(a);
	if (cmd_str(a, OPT_NAME) != NULL && !policy_name_valid(cmd_str(a,
	    OPT_NAME)))
		return cmd_usage(a);
	name = cmd_str(a, OPT_NAME) != NULL ? xstrdup(cmd_str(a, OPT_NAME)) :
	    default_name(path);
	if (cmd_load(path, LOG_MAX, &log, &len) != 0)
		goto done;
	if (policy_from_eventlog(log, len, name, h->alg, path, &text) != 0) {
		fprintf(stderr, "error: %s: %s\n", path, assay_err_detail());
		goto done;
	}
	r = put_text(text, cmd_str(a, OPT_OUTPUT));
 done:
	free(name);
	free(text);
	free(log);
	return r;
}
