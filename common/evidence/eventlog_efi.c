/*
 * eventlog_efi.c — the UEFI side of the firmware event log: EFI GUIDs,
 * UTF-16 names, UEFI_VARIABLE_DATA, UEFI_IMAGE_LOAD_EVENT, the
 * EFI_SIGNATURE_LIST walk, and the facts a measured-boot policy judges
 * (secure boot state, PK/KEK/db/dbx/MokList, boot applications, strings,
 * kernel command lines, Linux EFI stub tags). Pure, no I/O.
 *
 * Where facts come from:
 * - SecureBoot, PK, KEK, db, dbx: EV_EFI_VARIABLE_DRIVER_CONFIG events in
 *   PCR 7 (EFI_GLOBAL_VARIABLE for the first three, the image security
 *   database GUID for db/dbx); the first one of each name counts.
 *   verified = the digest is the hash of the whole UEFI_VARIABLE_DATA;
 *   secure_boot is set only from a verified SecureBoot event.
 * - MokList/MokListX: shim measures them in PCR 14 as EV_IPL events whose
 *   data is the name and whose digest hashes the variable, so present=1,
 *   verified=0, no data, digest kept; a UEFI_VARIABLE_DATA form (PCR 7
 *   DRIVER_CONFIG or AUTHORITY) is used when the log has one.
 * - Command lines: GRUB's EV_IPL "kernel_cmdline: ..." (PCR 8, also the
 *   older "grub_kernel_cmdline ..."); systemd-boot/systemd-stub's UTF-16
 *   EV_IPL load options (PCR 12, PCR 8 before systemd 250). The Linux EFI
 *   stub (and so OVMF's QEMU direct kernel boot) logs only a digest: an
 *   EV_EVENT_TAG LOADED_IMAGE::LoadOptions in PCR 9, kept in tag[].
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/encode.h"
#include "common/err.h"
#include "common/xmalloc.h"
#include "common/evidence/bind.h"
#include "common/evidence/eventlog.h"

const uint8_t EFI_GLOBAL_VARIABLE_GUID[16] = {
	0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11,
	0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c };
const uint8_t EFI_IMAGE_SECURITY_DATABASE_GUID[16] = {
	0xcb, 0xb2, 0x19, 0xd7, 0x3a, 0x3d, 0x96, 0x45,
	0xa3, 0xbc, 0xda, 0xd0, 0x0e, 0x67, 0x65, 0x6f };
const uint8_t EFI_SHIM_LOCK_GUID[16] = {
	0x50, 0xab, 0x5d, 0x60, 0x46, 0xe0, 0x00, 0x43,
	0xab, 0xb6, 0x3d, 0xd8, 0x10, 0xdd, 0x8b, 0x23 };
const uint8_t EFI_CERT_X509_GUID[16] = {
	0xa1, 0x59, 0xc0, 0xa5, 0xe4, 0x94, 0xa7, 0x4a,
	0x87, 0xb5, 0xab, 0x15, 0x5c, 0x2b, 0xf0, 0x72 };
const uint8_t EFI_CERT_SHA256_GUID[16] = {
	0x26, 0x16, 0xc4, 0xc1, 0x4c, 0x50, 0x92, 0x40,
	0xac, 0xa9, 0x41, 0xf9, 0x36, 0x93, 0x43, 0x28 };

#define SIGLIST_HDR	28	/* GUID + three UINT32 */

void
efi_guid_format(const uint8_t g[16], char out[EFI_GUID_STRLEN])
{
	snprintf(out, EFI_GUID_STRLEN,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x",
	    g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9],
	    g[10], g[11], g[12], g[13], g[14], g[15]);
}

int
efi_guid_parse(const char *s, uint8_t g[16])
{
	/* byte position in g of each text byte, in text order */
	static const uint8_t pos[16] = {
		3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
	size_t i, k = 0;
	int hi, lo;

	if (strlen(s) != EFI_GUID_STRLEN - 1)
		return assay_err_set(ASSAY_ERR_FORMAT, "GUID: wrong length");
	for (i = 0; i < EFI_GUID_STRLEN - 1;) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return assay_err_set(ASSAY_ERR_FORMAT,
				    "GUID: '-' expected at %zu", i);
			i++;
			continue;
		}
		if ((hi = hex_digit_value((unsigned char)s[i])) < 0 ||
		    (lo = hex_digit_value((unsigned char)s[i + 1])) < 0)
			return assay_err_set(ASSAY_ERR_FORMAT,
			    "GUID: bad hex digit at %zu", i);
		g[pos[k++]] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	return ASSAY_OK;
}

static void
put_utf8(char *o, size_t *n, uint32_t cp)
{
	if (cp < 0x80) {
		o[(*n)++] = (char)cp;
	} else if (cp < 0x800) {
		o[(*n)++] = (char)(0xc0 | cp >> 6);
		o[(*n)++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		o[(*n)++] = (char)(0xe0 | cp >> 12);
		o[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[(*n)++] = (char)(0x80 | (cp & 0x3f));
	} else {
		o[(*n)++] = (char)(0xf0 | cp >> 18);
		o[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
		o[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[(*n)++] = (char)(0x80 | (cp & 0x3f));
	}
}

char *
efi_utf16_to_utf8(const struct cur *s)
{
	struct cur c = *s;
	uint16_t u, u2;
	uint32_t cp;
	size_t n = 0;
	char *o;

	/* at most 3 UTF-8 bytes per UTF-16 unit (4 per surrogate pair) */
	o = xmalloc(c.len / 2 * 3 + 1);
	while (cur_u16le(&c, &u) == 0 && u != 0) {
		cp = u;
		if (u >= 0xd800 && u <= 0xdbff) {
			struct cur save = c;

			if (cur_u16le(&c, &u2) == 0 && u2 >= 0xdc00 &&
			    u2 <= 0xdfff)
				cp = 0x10000 + ((uint32_t)(u - 0xd800) << 10) +
				    (u2 - 0xdc00);
			else {
				c = save;
				cp = 0xfffd;
			}
		} else if (u >= 0xdc00 && u <= 0xdfff)
			cp = 0xfffd;
		put_utf8(o, &n, cp);
	}
	o[n] = '\0';
	return o;
}

int
efi_var_parse(const struct cur *ev, struct efi_var *out)
{
	struct cur c = *ev;
	uint64_t nlen, dlen;

	if (cur_copy(&c, out->guid, 16) != 0 || cur_u64le(&c, &nlen) != 0 ||
	    cur_u64le(&c, &dlen) != 0)
		return assay_err_set(ASSAY_ERR_TRUNCATED,
		    "UEFI_VARIABLE_DATA: header truncated");
	if (nlen > cur_left(&c) / 2 || dlen > cur_left(&c) - nlen * 2)
		return assay_err_set(ASSAY_ERR_TRUNCATED,
		    "UEFI_VARIABLE_DATA: name (%llu) and data (%llu) exceed "
		    "the %zu bytes left", (unsigned long long)nlen,
		    (unsigned long long)dlen, cur_left(&c));
	if (cur_bytes(&c, (size_t)nlen * 2, &out->name) != 0 ||
	    cur_bytes(&c, (size_t)dlen, &out->data) != 0)
		return ASSAY_ERR_TRUNCATED;
	if (cur_end(&c) != 0)
		return assay_err_set(ASSAY_ERR_FORMAT,
		    "UEFI_VARIABLE_DATA: %zu trailing bytes", cur_left(&c));
	return ASSAY_OK;
}

int
efi_var_name_is(const struct efi_var *v, const char *name)
{
	size_t i, n = strlen(name);

	if (v->name.len != n * 2)
		return 0;
	for (i = 0; i < n; i++)
		if (v->name.p[2 * i] != (uint8_t)name[i] || v->name.p[2 * i + 1])
			return 0;
	return 1;
}

static int
get_uintn(struct cur *c, uint8_t uintn_size, uint64_t *v)
{
	uint32_t v32;

	if (uintn_size == 1) {
		if (cur_u32le(c, &v32) != 0)
			return ASSAY_ERR_TRUNCATED;
		*v = v32;
		return ASSAY_OK;
	}
	return cur_u64le(c, v);
}

int
efi_image_load_parse(const struct cur *ev, uint8_t uintn_size,
    uint64_t *image_len, struct cur *devpath)
{
	struct cur c = *ev;
	uint64_t loc, len, link, dplen;

	if (get_uintn(&c, uintn_size, &loc) != 0 ||
	    get_uintn(&c, uintn_size, &len) != 0 ||
	    get_uintn(&c, uintn_size, &link) != 0 ||
	    get_uintn(&c, uintn_size, &dplen) != 0)
		return assay_err_set(ASSAY_ERR_TRUNCATED,
		    "UEFI_IMAGE_LOAD_EVENT: header truncated");
	if (dplen > cur_left(&c))
		return assay_err_set(ASSAY_ERR_TRUNCATED,
		    "UEFI_IMAGE_LOAD_EVENT: device path length %llu exceeds "
		    "the %zu bytes left", (unsigned long long)dplen,
		    cur_left(&c));
	if (cur_bytes(&c, (size_t)dplen, devpath) != 0)
		return ASSAY_ERR_TRUNCATED;
	*image_len = len;
	return ASSAY_OK;
}

int
efi_siglist_foreach(const struct cur *data,
    int (*cb)(const uint8_t type[16], const uint8_t owner[16],
    const struct cur *sig, void *arg), void *arg)
{
	struct cur c = *data, list, body, one, sig;
	uint8_t type[16], owner[16];
	uint32_t lsize, hsize, ssize;
	size_t nlist = 0;
	int r;

	while (cur_left(&c) > 0) {
		if (cur_copy(&c, type, 16) != 0 || cur_u32le(&c, &lsize) != 0 ||
		    cur_u32le(&c, &hsize) != 0 || cur_u32le(&c, &ssize) != 0)
			return assay_err_set(ASSAY_ERR_FORMAT,
			    "EFI_SIGNATURE_LIST %zu: header truncated", nlist);
		if (lsize < SIGLIST_HDR || lsize - SIGLIST_HDR > cur_left(&c) ||
		    hsize > lsize - SIGLIST_HDR)
			return assay_err_set(ASSAY_ERR_FORMAT,
			    "EFI_SIGNATURE_LIST %zu: list size %u, header size "
			    "%u do not fit", nlist, lsize, hsize);
		if (cur_bytes(&c, lsize - SIGLIST_HDR, &list) != 0 ||
		    cur_skip(&list, hsize) != 0)
			return ASSAY_ERR_FORMAT;
		body = list;
		if (ssize <= 16 || body.len % ssize != 0)
			return assay_err_set(ASSAY_ERR_FORMAT,
			    "EFI_SIGNATURE_LIST %zu: %zu bytes of entries are not "
			    "a multiple of signature size %u", nlist, body.len,
			    ssize);
		while (cur_left(&body) > 0) {
			if (cur_bytes(&body, ssize, &one) != 0 ||
			    cur_copy(&one, owner, 16) != 0)
				return ASSAY_ERR_FORMAT;
			sig = one;
			if ((r = cb(type, owner, &sig, arg)) != 0)
				return r;
		}
		nlist++;
	}
	return ASSAY_OK;
}

void
efi_devpath_file(const struct cur *dp, char *out, size_t outlen)
{
	struct cur c = *dp, node;
	uint8_t type, sub;
	uint16_t len, ch;
	size_t j = 0;

	if (outlen == 0)
		return;
	out[0] = '\0';
	while (cur_left(&c) >= 4) {
		if (cur_u8(&c, &type) != 0 || cur_u8(&c, &sub) != 0 ||
		    cur_u16le(&c, &len) != 0 || len < 4 ||
		    cur_bytes(&c, len - 4u, &node) != 0 || type == 0x7f)
			return;		/* malformed, or the end node */
		if (type != 0x04 || sub != 0x04)
			continue;
		while (cur_u16le(&node, &ch) == 0 && ch != 0 && j + 1 < outlen)
			out[j++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
		out[j] = '\0';
		return;
	}
}
