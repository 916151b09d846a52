/*
 * policy_deb.c — read a Debian binary package (.deb) with libarchive,
 * without installing it or running any of its scripts: the ar archive's
 * debian-binary, control.tar.* (the control file's Package, Version,
 * Architecture) and data.tar.* (every regular file hashed, streamed, at
 * its installed path). Hostile archives are refused, never half-read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <archive.h>
#include <archive_entry.h>

#include "common/err.h"
#include "common/evidence/tpm2.h"
#include "common/xmalloc.h"
#include "tools/policy_deb.h"
#include "tools/policy_hash.h"
#include "tools/policy_pkg.h"

struct dctx {
	const char		*deb;
	struct archive		*outer;
	const struct tpm2_hash	*h;
	struct pkg		*p;
	int			 control, data;
	size_t			 entries;
	char			**links;	/* symbolic links' paths */
	size_t			 nlinks;
	uint8_t			 buf[65536];
};

/* libarchive's message for a's last error, never NULL. */
static const char *
aerr(struct archive *a)
{
	const char *s = archive_error_string(a);

	return s != NULL ? s : "read error";
}

/* libarchive's read callback for a member of the outer ar archive. */
static la_ssize_t
member_read(struct archive *a, void *arg, const void **out)
{
	struct dctx *d = arg;
	la_ssize_t n = archive_read_data(d->outer, d->buf, sizeof(d->buf));

	*out = d->buf;
	if (n < 0)
		archive_set_error(a, EIO, "%s",
		    aerr(d->outer));
	return n;
}

/* A tar member of the ar archive (compressed as its name says) opened. */
static int
member_open(struct dctx *d, const char *member, const char *stem,
    struct archive **out)
{
	static const char *const sfx[] = { "", ".xz", ".zst", ".gz", ".bz2" };
	const char *rest = member + strlen(stem);
	struct archive *a;
	size_t i;

	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++)
		if (strcmp(rest, sfx[i]) == 0)
			break;
	if (i == sizeof(sfx) / sizeof(sfx[0]))
		return assay_err_set(ASSAY_ERR_UNSUPPORTED, "%s: member '%.64s' "
		    "has an unsupported compression", d->deb, member);
	a = archive_read_new();
	archive_read_support_filter_xz(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_format_tar(a);
	if (archive_read_open(a, d, NULL, member_read, NULL) != ARCHIVE_OK) {
		assay_err_set(ASSAY_ERR_FORMAT, "%s: %s: %s", d->deb, member,
		    aerr(a));
		archive_read_free(a);
		return ASSAY_ERR_FORMAT;
	}
	*out = a;
	return ASSAY_OK;
}

/*
 * The installed path of a tar member name ("./usr/bin/ls" -> "/usr/bin/ls"),
 * NULL for the top directory; refused: "..", "." or empty components, an
 * absolute name, control characters, over-long names.
 */
static int
member_path(const struct dctx *d, const char *raw, int dir, char **out)
{
	const char *s = raw, *c, *e;
	size_t n, i;

	*out = NULL;
	if (raw == NULL)
		return assay_err_set(ASSAY_ERR_FORMAT, "%s: data.tar member "
		    "without a readable name", d->deb);
	if ((n = strlen(raw)) > DEB_PATH_MAX)
		return assay_err_set(ASSAY_ERR_FORMAT, "%s: data.tar member name "
		    "longer than %d bytes", d->deb, DEB_PATH_MAX);
	for (i = 0; i < n; i++)
		if ((unsigned char)raw[i] < 0x20 || raw[i] == 0x7f)
			return assay_err_set(ASSAY_ERR_FORMAT, "%s: data.tar member "
			    "name with a control character", d->deb);
	if (strncmp(s, "./", 2) == 0)
		s += 2;
	if (strcmp(s, "") == 0 || strcmp(s, ".") == 0)
		return ASSAY_OK;
	n = strlen(s);
	if (dir && s[n - 1] == '/')
		n--;
	if (s[0] == '/')
		return assay_err_set(ASSAY_ERR_FORMAT, "%s: data.tar member "
		    "'%.200s' has an absolute name", d->deb, raw);
	for (c = s; c <= s + n; c = e + 1) {
		if ((e = memchr(c, '/', (size_t)(s + n - c))) == NULL)
			e = s + n;
		if (e == c || (e - c == 1 && c[0] == '.') ||
		    (e - c == 2 && c[0] == '.' && c[1] == '.'))
			return assay_err_set(ASSAY_ERR_FORMAT, "%s: data.tar member "
			    "'%.200s': '..', '.' or an empty component",
			    d->deb, raw);
		if (e - c > DEB_NAME_MAX)
			return assay_err_set(ASSAY_ERR_FORMAT, "%s: data.tar member "
			    "'%.200s': a component longer than %d bytes",
			    d->deb, raw, DEB_NAME_MAX);
	}
	*out = xasprintf("/%.*s", (int)n, s);
	return ASSAY_OK;
}

/* The current member's bytes into its digest, at most DEB_MEMBER_MAX. */
static int
member_hash(struct dctx *d, struct archive *a, const char *path, char **out)
{
	struct phash *ph = phash_new(d->h);
	unsigned long long total = 0;
	const void *blk;
	size_t n;
	la_int64_t off;
	int r, ar;

	while ((ar = archive_read_data_block(a, &blk, &n, &off)) == ARCHIVE_OK) {
		if ((total += n) > DEB_MEMBER_MAX) {
			phash_free(ph);
			return assay_err_set(ASSAY_ERR_FORMAT, "%s: %s is bigger "
			    "than %llu bytes", d->deb, path, DEB_MEMBER_MAX);
		}
		if ((r = phash_update(ph, blk, n)) != 0) {
			phash_free(ph);
			return r;
		}
	}
	if (ar != ARCHIVE_EOF) {
		phash_free(ph);
		return assay_err_set(ASSAY_ERR_FORMAT, "%s: %s: %s", d->deb,
		    path, aerr(a));
	}
	return phash_final(ph, out);
}

/* One data.tar entry: a regular file's digest, others skipped. */
static int
data_entry(struct dctx *d, struct archive *a, struct archive_entry *e)
{
	unsigned type = archive_entry_filetype(e);
	const char *link = archive_entry_hardlink(e), *dg;
	char *path = NULL, *target = NULL, *digest = NULL;
	int r;

	if (++d->entries > DEB_ENTRIES_MAX)
		return assay_err_set(ASSAY_ERR_FORMAT, "%s: more than %d entries "
		    "in data.tar", d->deb, DEB_ENTRIES_MAX);
	if ((r = member_path(d, archive_entry_pathname(e), type == AE_IFDIR,
	    &path)) != 0 || path == NULL)
		goto out;
	if (type == AE_IFLNK) {		/* kept to check paths through it */
		d->links = xreallocarray(d->links, d->nlinks + 1,
		    sizeof(*d->links));
		d->links[d->nlinks++] = path;
		path = NULL;
		goto out;
	}
	if (type == AE_IFDIR ||
	    (type != AE_IFREG && link == NULL))
		goto out;
	if (link != NULL) {	/* a hard link: the same bytes as its target */
		if ((r = member_path(d, link, 0, &target)) != 0)
			goto out;
		if (target == NULL || (dg = pkg_file_find(d->p, target)) == NULL) {
			r = assay_err_set(ASSAY_ERR_FORMAT, "%s: %s is a hard link "
			    "to no earlier file", d->deb, path);
			goto out;
		}
		pkg_file_add(d->p, path, dg);
		goto out;
	}
	if (archive_entry_size_is_set(e) && (archive_entry_size(e) < 0 ||
	    (unsigned long long)archive_entry_size(e) > DEB_MEMBER_MAX)) {
		r = assay_err_set(ASSAY_ERR_FORMAT, "%s: %s is bigger than %llu "
		    "bytes", d->deb, path, DEB_MEMBER_MAX);
		goto out;
	}
	if ((r = member_hash(d, a, path, &digest)) != 0)
		goto out;
	pkg_file_add(d->p, path, digest);
 out:
	free(path);
	free(target);
	free(digest);
	return r;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * A file whose path goes through one of the package's own symbolic links
 * ("usr/lib/x" -> "/etc", then "usr/lib/x/passwd") would land elsewhere
 * than it says: refused.
 */
static int
links_check(struct dctx *d)
{
	const struct pkg *p = d->p;
	char *pre, *key;
	size_t i, k;

	if (d->nlinks == 0)
		return ASSAY_OK;
	qsort(d->links, d->nlinks, sizeof(*d->links), str_cmp);
	for (i = 0; i < p->nf; i++) {
		pre = xstrdup(p->f[i].path);
		for (k = strlen(pre); k > 1; k--) {
			if (pre[k] != '/')
				continue;
			pre[k] = '\0';
			key = pre;
			if (bsearch(&key, d->links, d->nlinks, sizeof(*d->links),
			    str_cmp) != NULL) {
				assay_err_set(ASSAY_ERR_FORMAT, "%s: %.200s goes "
				    "through the symbolic link %.200s", d->deb,
				    p->f[i].path, pre);
				free(pre);
				return ASSAY_ERR_FORMAT;
			}
		}
		free(pre);
	}
	return ASSAY_OK;
}

/* A field value is printable ASCII without spaces; names lowercase too. */
static int
field_ok(const char *v, int pkgname)
{
	const unsigned char *u;

	if (*v == '\0')
		return 0;
	for (u = (const unsigned char *)v; *u != '\0'; u++)
		if (*u <= 0x20 || *u >= 0x7f || (pkgname && *u >= 'A' &&
		    *u <= 'Z'))
			return 0;
	return 1;
}

/* Package, Version, Architecture of a control file (deb-control(5)). */
static int
control_parse(struct dctx *d, char *text)
{
	static const char *const keys[] = { "Package", "Version",
	    "Architecture" };
	char *line, *next, *colon, *v, *end, *val[3] = { NULL, NULL, NULL };
	size_t i;

	for (line = text; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (line[0] == ' ' || line[0] == '\t' ||
		    (colon = strchr(line, ':')) == NULL)
			continue;	/* continuation lines, comments */
		*colon = '\0';
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		for (end = v + strlen(v); end > v && (end[-1] == ' ' ||
		    end[-1] == '\t' || end[-1] == '\r'); end--)
			*(end - 1) = '\0';
		for (i = 0; i < 3; i++)
			if (strcasecmp(line, keys[i]) == 0 && val[i] == NULL)
				val[i] = v;
	}
	for (i = 0; i < 3; i++)
		if ((i < 2 && val[i] == NULL) ||
		    (val[i] != NULL && !field_ok(val[i], i != 1)))
			return assay_err_set(ASSAY_ERR_FORMAT, "%s: control file "
			    "has no valid %s field", d->deb, keys[i]);
	d->p->name = xstrdup(val[0]);
	d->p->version = xstrdup(val[1]);
	d->p->arch = val[2] != NULL ? xstrdup(val[2]) : NULL;
	return ASSAY_OK;
}

/* control.tar: its "./control" member read (bounded) and parsed. */
static int
control_read(struct dctx *d, struct archive *a)
{
	struct archive_entry *e;
	char *text = NULL;
	size_t len = 0;
	la_ssize_t n;
	int ar, r = ASSAY_OK;

	while ((ar = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		if (strcmp(archive_entry_pathname(e), "./control") != 0 &&
		    strcmp(archive_entry_pathname(e), "control") != 0)
			continue;
		if (archive_entry_filetype(e) != AE_IFREG || d->control)
			return assay_err_set(ASSAY_ERR_FORMAT, "%s: control.tar "
			    "has a control member that is not one file", d->deb);
		text = xmalloc(DEB_CONTROL_MAX + 1);
		while ((n = archive_read_data(a, text + len,
		    DEB_CONTROL_MAX + 1 - len)) > 0)
			if ((len += (size_t)n) > DEB_CONTROL_MAX)
				break;
		if (n < 0 || len > DEB_CONTROL_MAX)
			r = assay_err_set(ASSAY_ERR_FORMAT, "%s: control file "
			    "unreadable or bigger than %d bytes", d->deb,
			    DEB_CONTROL_MAX);
		else {
			text[len] = '\0';
			r = memchr(text, '\0', len) != NULL ?
			    assay_err_set(ASSAY_ERR_FORMAT, "%s: control file "
			    "with a NUL byte", d->deb) : control_parse(d, text);
		}
		free(text);
		if (r != 0)
			return r;
		d->control = 1;
	}
	if (ar != ARCHIVE_EOF)
		return assay_err_set(ASSAY_ERR_FORMAT, "%s: control.tar: %s",
		    d->deb, aerr(a));
	return ASSAY_OK;
}

static int
data_read(struct dctx *d, struct archive *a)
{
	struct archive_entry *e;
	int ar, r;

	while ((ar = archive_read_next_header(a, &e)) == ARCHIVE_OK)
		if ((r = data_entry(d, a, e)) != 0)
			return r;
	if (ar != ARCHIVE_EOF)
		return assay_err_set(ASSAY_ERR_FORMAT, "%s: data.tar: %s",
		    d->deb, aerr(a));
	d->data = 1;
	return ASSAY_OK;
}

/* One member of the ar archive. */
static int
outer_member(struct dctx *d, const char *name, int first)
{
	struct archive *in = NULL;
	char magic[4] = { 0 };
	int r;

	if (first) {	/* deb(5): debian-binary first, "2.x" */
		if (strcmp(name, "debian-binary") != 0 ||
		    archive_read_data(d->outer, magic, 3) != 3 ||
		    memcmp(magic, "2.", 2) != 0)
			return assay_err_set(ASSAY_ERR_FORMAT, "%s: not a Debian "
			    "binary package (no debian-binary 2.x)", d->deb);
		return ASSAY_OK;
	}
	if (strncmp(name, "control.tar", 11) == 0) {
		if (d->control || (r = member_open(d, name, "control.tar",
		    &in)) != 0)
			return d->control ? assay_err_set(ASSAY_ERR_FORMAT,
			    "%s: two control.tar members", d->deb) : r;
		r = control_read(d, in);
	} else if (strncmp(name, "data.tar", 8) == 0) {
		if (d->data || (r = member_open(d, name, "data.tar", &in)) != 0)
			return d->data ? assay_err_set(ASSAY_ERR_FORMAT,
			    "%s: two data.tar members", d->deb) : r;
		r = data_read(d, in);
	} else
		return ASSAY_OK;	/* signatures and the like: not ours */
	archive_read_free(in);
	return r;
}

static int
deb_source(const char *path, struct pkg *p)
{
	char *dg;
	int r;

	if ((r = phash_file(tpm2_hash_by_alg(TPM2_ALG_SHA256), path, &dg)) != 0)
		return r;
	p->source = xasprintf("deb %s", dg);
	free(dg);
	return ASSAY_OK;
}

int
deb_read(const char *path, const struct tpm2_hash *h, struct pkg **out)
{
	struct archive_entry *e;
	struct dctx *d = xcalloc(1, sizeof(*d));
	const char *dup;
	int ar, r = ASSAY_OK, first = 1;

	*out = NULL;
	d->deb = path;
	d->h = h;
	d->p = pkg_new(NULL, NULL, NULL, NULL);
	d->outer = archive_read_new();
	archive_read_support_format_ar(d->outer);
	if (archive_read_open_filename(d->outer, path, 65536) != ARCHIVE_OK) {
		r = assay_err_set(ASSAY_ERR_FORMAT, "%s: not a Debian binary "
		    "package: %s", path, aerr(d->outer));
		goto out;
	}
	while (r == ASSAY_OK &&
	    (ar = archive_read_next_header(d->outer, &e)) == ARCHIVE_OK) {
		r = outer_member(d, archive_entry_pathname(e), first);
		first = 0;
	}
	if (r == ASSAY_OK && (ar != ARCHIVE_EOF || first))
		r = assay_err_set(ASSAY_ERR_FORMAT, "%s: not a Debian binary "
		    "package: %s", path, first ? "empty or not an ar archive" :
		    aerr(d->outer));
	if (r == ASSAY_OK && (!d->control || !d->data))
		r = assay_err_set(ASSAY_ERR_FORMAT, "%s: no %s", path,
		    !d->control ? "control file" : "data.tar member");
	if (r == ASSAY_OK)
		r = links_check(d);
	if (r == ASSAY_OK && (dup = pkg_duplicate(d->p)) != NULL)
		r = assay_err_set(ASSAY_ERR_FORMAT, "%s: data.tar lists %.200s "
		    "twice", path, dup);
	if (r == ASSAY_OK && (r = deb_source(path, d->p)) == ASSAY_OK) {
		*out = d->p;	/* caller owns it */
		d->p = NULL;
	}
 out:
	archive_read_free(d->outer);
	pkg_free(d->p);
	while (d->nlinks > 0)
		free(d->links[--d->nlinks]);
	free(d->links);
	free(d);
	return r;
}
