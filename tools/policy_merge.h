/*
 * policy_merge.h — `policy generate --merge`: an existing generated policy
 * read back into the policy being built (struct gen).
 */
#ifndef ASSAY_POLICY_MERGE_H
#define ASSAY_POLICY_MERGE_H

struct gen;

/*
 * Compile the policy at path (it must be valid), then take its name,
 * bank and every ima: key (allow, buffers, allow_digests, exclude, keys,
 * require_signature, legacy_sha1_extend, unknown, packages) into g.
 * Policies with other top-level keys (pcrs:, measured_boot:) are refused:
 * a rewrite would drop them. 0, or 2 after a message on stderr.
 */
int	policy_merge_read(const char *path, struct gen *g);

#endif
