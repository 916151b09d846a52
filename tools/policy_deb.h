/*
 * policy_deb.h — reference values from a Debian binary package, read
 * with libarchive and never installed: no maintainer script runs.
 */
#ifndef ASSAY_POLICY_DEB_H
#define ASSAY_POLICY_DEB_H

struct tpm2_hash;
struct pkg;

/* Bounds on what a package may hold before it is refused as hostile. */
#define DEB_MEMBER_MAX		(4ull * 1024 * 1024 * 1024)	/* one file */
#define DEB_ENTRIES_MAX		1000000		/* data.tar entries */
#define DEB_CONTROL_MAX		(1024 * 1024)	/* the control file */
#define DEB_PATH_MAX		4096
#define DEB_NAME_MAX		255		/* one path component */

/*
 * Read the .deb at path: Package, Version, Architecture from control.tar's
 * control file, and the digest (algorithm h) of every regular file of
 * data.tar at its installed path ("/usr/bin/ls"); directories, symbolic
 * links and device nodes are skipped, a hard link takes its target's
 * digest. source is "deb sha256:<hex of the .deb>". A hostile or broken
 * archive (a path with "..", an absolute or empty component, control
 * characters, an over-long name, a member over DEB_MEMBER_MAX, a path
 * twice, no control file, no data.tar) is refused: ASSAY_ERR_FORMAT with
 * the reason in assay_err_detail().
 */
int	deb_read(const char *path, const struct tpm2_hash *h, struct pkg **out);

#endif
