/*
 * encode.c — hex and base64 codecs. Base64 uses OpenSSL's block coder and
 * adds the strictness it lacks (length multiple of 4, padding only at the end).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/encode.h"
#include "common/err.h"
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
