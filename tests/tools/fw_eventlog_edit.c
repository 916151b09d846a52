/*
 * fw_eventlog_edit.c — fw_eventlog's option mini-languages: -e SPEC (one
 * more event, queued after the standard ones) and -L SPEC (an attacker's
 * relabelling of one queued event in the log only), with the number and
 * event type parsers they share.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/evidence/eventlog.h"
#include "common/evidence/tpm2.h"
#include "common/xmalloc.h"
#include "tests/tools/fw_eventlog.h"

uint32_t
parse_u32(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	v = strtoull(s, &end, 0);
	if (*s == '\0' || *end != '\0' || v > 0xffffffffull)
		dief(what, s);
	return (uint32_t)v;
}

static uint32_t
parse_type(const char *s)
{
	static const uint32_t known[] = {
		EV_PREBOOT_CERT, EV_POST_CODE, EV_NO_ACTION, EV_SEPARATOR,
		EV_ACTION, EV_EVENT_TAG, EV_S_CRTM_CONTENTS, EV_S_CRTM_VERSION,
		EV_CPU_MICROCODE, EV_PLATFORM_CONFIG_FLAGS, EV_TABLE_OF_DEVICES,
		EV_COMPACT_HASH, EV_IPL, EV_IPL_PARTITION_DATA, EV_NONHOST_CODE,
		EV_NONHOST_CONFIG, EV_NONHOST_INFO, EV_OMIT_BOOT_DEVICE_EVENTS,
		EV_EFI_VARIABLE_DRIVER_CONFIG, EV_EFI_VARIABLE_BOOT,
		EV_EFI_BOOT_SERVICES_APPLICATION, EV_EFI_BOOT_SERVICES_DRIVER,
		EV_EFI_RUNTIME_SERVICES_DRIVER, EV_EFI_GPT_EVENT, EV_EFI_ACTION,
		EV_EFI_PLATFORM_FIRMWARE_BLOB, EV_EFI_HANDOFF_TABLES,
		EV_EFI_PLATFORM_FIRMWARE_BLOB2, EV_EFI_HANDOFF_TABLES2,
		EV_EFI_VARIABLE_BOOT2, EV_EFI_HCRTM_EVENT,
		EV_EFI_VARIABLE_AUTHORITY, EV_EFI_SPDM_FIRMWARE_BLOB,
		EV_EFI_SPDM_FIRMWARE_CONFIG,
	};
	const char *nm;

	if (strncmp(s, "0x", 2) == 0 || strncmp(s, "0X", 2) == 0)
		return parse_u32(s, "-e type");
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if ((nm = eventlog_type_name(known[i])) != NULL && strcmp(nm, s) == 0)
			return known[i];
	dief("-e: unknown event type", s);
}


/* -e [pcr=N,][type=T,][mode=M,][bank=B,][repeat=R,]KIND=TEXT */
void
extra_event(const char *spec)
{
	uint32_t pcr = 0, type = 0, repeat = 1;
	int have_pcr = 0, have_type = 0, mode = M_BOTH, hashed = 0;
	unsigned bmask = (1u << NBANKS) - 1;
	const char *p = spec, *comma, *text;
	uint8_t d[NBANKS][32], h[NBANKS][32];
	struct buf v;
	char *s;

	for (;;) {
		if (strncmp(p, "pcr=", 4) == 0 || strncmp(p, "type=", 5) == 0 ||
		    strncmp(p, "mode=", 5) == 0 || strncmp(p, "bank=", 5) == 0 ||
		    strncmp(p, "repeat=", 7) == 0) {
			if ((comma = strchr(p, ',')) == NULL)
				dief("-e: no KIND=TEXT", spec);
			s = xstrndup(p, (size_t)(comma - p));
			if (strncmp(s, "pcr=", 4) == 0) {
				pcr = parse_u32(s + 4, "-e pcr");
				have_pcr = 1;
			} else if (strncmp(s, "type=", 5) == 0) {
				type = parse_type(s + 5);
				have_type = 1;
			} else if (strncmp(s, "repeat=", 7) == 0) {
				repeat = parse_u32(s + 7, "-e repeat");
			} else if (strncmp(s, "bank=", 5) == 0) {
				bmask = 0;
				for (int i = 0; i < NBANKS; i++)
					if (strcmp(s + 5,
					    tpm2_hash_by_alg(banks[i])->name) == 0)
						bmask = 1u << i;
				if (bmask == 0)
					dief("-e: bank is sha1 or sha256", s);
			} else if (strcmp(s + 5, "both") == 0)
				mode = M_BOTH;
			else if (strcmp(s + 5, "log") == 0)
				mode = M_LOG;
			else if (strcmp(s + 5, "extend") == 0)
				mode = M_EXTEND;
			else
				dief("-e: mode is both, log or extend", s);
			free(s);
			p = comma + 1;
			continue;
		}
		break;
	}
	if ((text = strchr(p, '=')) == NULL)
		dief("-e: no KIND=TEXT", spec);
	text++;
	buf_init(&v);
#define KIND(k)	(strncmp(p, k "=", sizeof(k)) == 0)
	if (KIND("loadopts")) {
		static const char nm[] = "LOADED_IMAGE::LoadOptions";
		struct buf u;

		le32(&v, EL_TAG_LOAD_OPTIONS);
		le32(&v, sizeof(nm));
		buf_put(&v, nm, sizeof(nm));
		buf_init(&u);
		utf16(&u, text);
		le16(&u, 0);
		hash_all(u.d, u.len, d);
		buf_free(&u);
		if (!have_pcr)
			pcr = 9;
		if (!have_type)
			type = EV_EVENT_TAG;
		hashed = 1;
	} else if (KIND("grub_cmdline") || KIND("grub_cmd")) {
		grub_string(&v, d, KIND("grub_cmd") ? "grub_cmd: " :
		    "kernel_cmdline: ", text);
		pcr = have_pcr ? pcr : 8;
		type = have_type ? type : EV_IPL;
		hashed = 1;
	} else {
		if (KIND("cmdline")) {
			s = xasprintf("kernel_cmdline: %s", text);
			buf_put(&v, s, strlen(s) + 1);
			free(s);
			pcr = have_pcr ? pcr : 8;
			type = have_type ? type : EV_IPL;
		} else if (KIND("ipl")) {
			buf_put(&v, text, strlen(text) + 1);
			pcr = have_pcr ? pcr : 14;
			type = have_type ? type : EV_IPL;
		} else if (KIND("utf16")) {
			utf16(&v, text);
			pcr = have_pcr ? pcr : 12;
			type = have_type ? type : EV_IPL;
		} else if (KIND("action")) {
			buf_put(&v, text, strlen(text));
			pcr = have_pcr ? pcr : 5;
			type = have_type ? type : EV_EFI_ACTION;
		} else if (KIND("var")) {
			const char *c = strchr(text, ':');
			char *name;
			uint8_t b;
			struct buf val;

			if (c == NULL)
				dief("-e var=NAME:VALUE", text);
			name = xstrndup(text, (size_t)(c - text));
			buf_init(&val);
			if (strcmp(name, "SecureBoot") == 0) {
				b = (uint8_t)(strcmp(c + 1, "0") != 0);
				buf_put(&val, &b, 1);
			} else
				cert_list(&val, c + 1);
			var_data(&v, strcmp(name, "db") == 0 || strcmp(name, "dbx") == 0 ?
			    efi_secdb : efi_global, name, val.d, val.len);
			buf_free(&val);
			free(name);
			pcr = have_pcr ? pcr : 7;
			type = have_type ? type : EV_EFI_VARIABLE_DRIVER_CONFIG;
		} else if (KIND("data")) {
			buf_put(&v, text, strlen(text));
			pcr = have_pcr ? pcr : 0;
			type = have_type ? type : EV_POST_CODE;
		} else
			dief("-e: unknown KIND (loadopts, cmdline, grub_cmdline, "
			    "grub_cmd, ipl, utf16, action, var, data)", p);
	}
	if (!hashed)
		hash_all(v.d, v.len, d);
#undef KIND
	memcpy(h, d, sizeof(h));
	cur_mode = mode;
	cur_banks = bmask;
	for (uint32_t i = 0; i < repeat; i++)
		event_with(pcr, type, v.d, v.len, d, h);
	cur_mode = M_BOTH;
	cur_banks = (1u << NBANKS) - 1;
	buf_free(&v);
}


/* -L pcr=N[,nth=K][,type=T][,unlabel][,flip=OFF][,nul][,data=TEXT] */
void
relabel(const char *spec)
{
	long nth = 1, k, cnt = 0, flip = -1;
	uint32_t pcr = 0, type = 0;
	int have_pcr = 0, have_type = 0, unlabel = 0, nul = 0;
	const char *p = spec, *comma, *data = NULL;
	struct fwev *e = NULL;
	char *s, *end;
	uint8_t *nd;
	size_t nlen;

	while (*p != '\0') {
		if (strncmp(p, "data=", 5) == 0) {
			data = p + 5;
			break;
		}
		comma = strchr(p, ',');
		s = comma != NULL ? xstrndup(p, (size_t)(comma - p)) : xstrdup(p);
		if (strncmp(s, "pcr=", 4) == 0) {
			pcr = parse_u32(s + 4, "-L pcr");
			have_pcr = 1;
		} else if (strncmp(s, "nth=", 4) == 0) {
			nth = strtol(s + 4, &end, 0);
			if (s[4] == '\0' || *end != '\0' || nth == 0)
				dief("-L nth wants a non-zero number", s);
		} else if (strncmp(s, "type=", 5) == 0) {
			type = parse_type(s + 5);
			have_type = 1;
		} else if (strncmp(s, "flip=", 5) == 0) {
			flip = (long)parse_u32(s + 5, "-L flip");
		} else if (strcmp(s, "unlabel") == 0) {
			unlabel = 1;
		} else if (strcmp(s, "nul") == 0) {
			nul = 1;
		} else
			dief("-L: unknown item", s);
		free(s);
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	if (!have_pcr)
		dief("-L wants pcr=N", spec);
	for (size_t i = 0; i < nevs; i++)
		if (evs[i].do_log && evs[i].log_pcr == pcr)
			cnt++;
	k = nth > 0 ? nth - 1 : cnt + nth;
	if (k < 0 || k >= cnt)
		dief("-L: no such event", spec);
	for (size_t i = 0; i < nevs; i++)
		if (evs[i].do_log && evs[i].log_pcr == pcr && k-- == 0) {
			e = &evs[i];
			break;
		}
	if (data != NULL) {
		free(e->data);
		e->len = strlen(data);
		e->data = xmalloc(e->len + 1);
		memcpy(e->data, data, e->len);
	}
	if (unlabel) {
		uint8_t *c = memmem(e->data, e->len, ": ", 2);
		size_t off = c != NULL ? (size_t)(c - e->data) + 2 : 0;

		nlen = e->len - off;
		if (nlen > 0 && e->data[off + nlen - 1] == '\0')
			nlen--;
		memmove(e->data, e->data + off, nlen);
		e->len = nlen;
	}
	if (nul) {
		nd = xmalloc(e->len + 1);
		memcpy(nd, e->data, e->len);
		nd[e->len++] = '\0';
		free(e->data);
		e->data = nd;
	}
	if (flip >= 0) {
		if ((size_t)flip >= e->len)
			dief("-L: flip past the end of the data", spec);
		e->data[flip] ^= 0x01;
	}
	if (have_type)
		e->type = type;
}
