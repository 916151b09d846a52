/*
 * encode.c — hex and base64 codecs, and the sanitizer for text that
 * carries untrusted bytes. Base64 uses OpenSSL's block coder and adds the
 * strictness it lacks (length multiple of 4, padding only at the end).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/encode.h"
#include "common/err.h"
#include "common/evidence/tpm2.h"
#include "common/log.h"
#include "common/xmalloc.h"

int
hex_digit_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *
hex_encode(const void *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *b = p;
	char *s = xreallocarray(NULL, n + 1, 2);
	size_t i;

	for (i = 0; i < n; i++) {
		s[2 * i] = digits[b[i] >> 4];
		s[2 * i + 1] = digits[b[i] & 0xf];
	}
	s[2 * n] = '\0';
	return s;
}

int
hex_decode(const char *s, uint8_t *dst, size_t max, size_t *outlen)
{
	size_t len = strlen(s), i;

	*outlen = 0;
	if (len % 2 != 0)
		return ASSAY_ERR_FORMAT;
	if (len / 2 > max)
		return ASSAY_ERR_RANGE;
	for (i = 0; i < len / 2; i++) {
		int hi = hex_digit_value((unsigned char)s[2 * i]);
		int lo = hex_digit_value((unsigned char)s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return ASSAY_ERR_FORMAT;
		dst[i] = (uint8_t)(hi << 4 | lo);
	}
	*outlen = len / 2;
	return ASSAY_OK;
}

int
hex_decode_alloc(const char *s, size_t max, uint8_t **out, size_t *outlen)
{
	size_t len = strlen(s) / 2;
	uint8_t *d;
	int r;

	*out = NULL;
	*outlen = 0;
	if (len > max)
		return ASSAY_ERR_RANGE;
	d = xmalloc(len + 1);
	if ((r = hex_decode(s, d, len, outlen)) != 0) {
		free(d);
		return r;
	}
	*out = d;
	return ASSAY_OK;
}

void
sha256_hex(const void *p, size_t n, char out[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int len = 0;

	/* The fetched SHA-256 (tpm2.c): EVP_sha256() fetches on every use. */
	if (EVP_Digest(p, n, md, &len, tpm2_hash_md(TPM2_ALG_SHA256),
	    NULL) != 1 || len != sizeof(md))
		fatalx("EVP_Digest sha256 failed");
	for (size_t i = 0; i < sizeof(md); i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[64] = '\0';
}

char *
base64_encode(const void *p, size_t n)
{
	size_t outlen;
	char *s;

	if (n > (SIZE_MAX / 4) * 3 - 3 || n > INT32_MAX)
		return xstrdup("");
	outlen = 4 * ((n + 2) / 3) + 1;
	s = xmalloc(outlen);
	EVP_EncodeBlock((unsigned char *)s, p, (int)n);
	return s;
}

int
base64_decode_alloc(const char *s, size_t max, uint8_t **out, size_t *outlen)
{
	size_t len = strlen(s), pad = 0, i;
	uint8_t *d;
	int n;

	*out = NULL;
	*outlen = 0;
	if (len % 4 != 0 || len > INT32_MAX)
		return ASSAY_ERR_FORMAT;
	if (len >= 1 && s[len - 1] == '=')
		pad++;
	if (len >= 2 && s[len - 2] == '=')
		pad++;
	for (i = 0; i < len - pad; i++) {
		unsigned char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return ASSAY_ERR_FORMAT;
	}
	if (len / 4 * 3 - pad > max)
		return ASSAY_ERR_RANGE;
	d = xmalloc(len / 4 * 3 + 1);
	n = EVP_DecodeBlock(d, (const unsigned char *)s, (int)len);
	if (n < 0 || (size_t)n < pad) {
		free(d);
		return ASSAY_ERR_FORMAT;
	}
	*out = d;
	*outlen = (size_t)n - pad;
	return ASSAY_OK;
}

/* Length of the valid UTF-8 sequence at p (1-4) and its code point; 0 if invalid. */
static size_t
utf8_seq(const unsigned char *p, uint32_t *cp)
{
	size_t n, i;
	uint32_t c = p[0], min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0) {
		n = 2; c &= 0x1f; min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3; c &= 0x0f; min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4; c &= 0x07; min = 0x10000;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)	/* also stops at the NUL */
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* Characters a terminal or a viewer acts on instead of showing. */
static int
unsafe_cp(uint32_t c)
{
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) ||
	    c == 0x061c || c == 0x200e || c == 0x200f ||
	    (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

static char *
sanitize(char *s, int lines)
{
	unsigned char *p = (unsigned char *)s, *o = p;
	uint32_t cp;
	size_t n;

	if (s == NULL)
		return NULL;
	while (*p != '\0') {
		if ((n = utf8_seq(p, &cp)) == 0 ||
		    (unsafe_cp(cp) && !(lines && (cp == '\n' || cp == '\t')))) {
			*o++ = '?';
			p += n == 0 ? 1 : n;
			continue;
		}
		memmove(o, p, n);
		o += n;
		p += n;
	}
	*o = '\0';
	return s;
}

char *
text_sanitize(char *s)
{
	return sanitize(s, 0);
}

char *
text_sanitize_lines(char *s)
{
	return sanitize(s, 1);
}
