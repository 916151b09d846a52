/*
 * policy_mb_fixture.h — helpers shared by the measured_boot: policy suites
 * (test_policy_mb.c, test_policy_mb_check.c): the SHA-256 of "abc" used as
 * a certificate fingerprint, EFI signature type GUIDs, "sha256:" digests
 * of one repeated byte, and compiling a policy that must have a
 * measured_boot: section. Header-only, static inline functions.
 */
#ifndef ASSAY_TEST_POLICY_MB_FIXTURE_H
#define ASSAY_TEST_POLICY_MB_FIXTURE_H

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/appraise/policy.h"
#include "common/appraise/policy_mb.h"

/* SHA-256("abc"), the fingerprint of a "certificate" whose DER is "abc". */
#define SHA256_ABC \
	"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static const uint8_t guid_x509[16] = {
	0xa1, 0x59, 0xc0, 0xa5, 0xe4, 0x94, 0xa7, 0x4a,
	0x87, 0xb5, 0xab, 0x15, 0x5c, 0x2b, 0xf0, 0x72 };
static const uint8_t guid_sha256[16] = {
	0x26, 0x16, 0xc4, 0xc1, 0x4c, 0x50, 0x92, 0x40,
	0xac, 0xa9, 0x41, 0xf9, 0x36, 0x93, 0x43, 0x28 };

/* "sha256:" + 64 hex digits of byte b. */
static inline const char *
h32(char *buf, unsigned b)
{
	size_t i;

	memcpy(buf, "sha256:", 7);
	for (i = 0; i < 32; i++)
		snprintf(buf + 7 + 2 * i, 3, "%02x", b);
	return buf;
}
#define H32(b)	h32((char[7 + 65]){ 0 }, (b))

static inline struct policy *
compile_ok(const char *text)
{
	struct policy *p = NULL;
	int r;

	assay_err_clear();
	r = policy_compile(text, strlen(text), "t", &p);
	ck_assert_msg(r == ASSAY_OK, "compile: %s: %s", assay_strerror(r),
	    assay_err_detail());
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(policy_mb(p));
	return p;
}

#endif
