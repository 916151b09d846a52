/*
 * encode.h — hex and base64 (standard alphabet, padded) conversions, and
 * the hex SHA-256 of some bytes (content hashes shown and stored as text).
 * Decoders are strict: odd lengths, bad characters or bad padding are
 * ASSAY_ERR_FORMAT; outputs larger than max are ASSAY_ERR_RANGE.
 */
#ifndef ASSAY_ENCODE_H
#define ASSAY_ENCODE_H

#include <stddef.h>
#include <stdint.h>

/* Value of one hex digit (either case), or -1. */
int	 hex_digit_value(int c);
/* Lowercase hex, NUL-terminated, caller frees. */
char	*hex_encode(const void *p, size_t n);
/* Decode into dst (capacity max); *outlen gets the byte count. */
int	 hex_decode(const char *s, uint8_t *dst, size_t max, size_t *outlen);
/* Decode into a new allocation (at most max bytes). */
int	 hex_decode_alloc(const char *s, size_t max, uint8_t **out, size_t *outlen);

/* Lowercase hex SHA-256 of p[0..n) into out (64 digits and a NUL). */
void	 sha256_hex(const void *p, size_t n, char out[65]);

char	*base64_encode(const void *p, size_t n);
int	 base64_decode_alloc(const char *s, size_t max, uint8_t **out, size_t *outlen);

/*
 * Make text that may carry evidence bytes safe to store, serve as JSON and
 * print: in place, each invalid UTF-8 byte and each control character
 * (C0, DEL, C1, bidirectional overrides) becomes '?'. Returns s.
 */
char	*text_sanitize(char *s);
/* The same, keeping newlines and tabs (multi-line text for a terminal). */
char	*text_sanitize_lines(char *s);

#endif
