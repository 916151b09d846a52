/*
 * eventlog_cmd.c — `assayctl eventlog show|replay FILE [--json]`: parse a
 * TCG firmware event log (binary_bios_measurements) with eventlog_parse.
 * show prints one line per event (seq, PCR, type, first bank's digest,
 * a short description) or a JSON array of objects; replay prints
 * {"banks":{"sha256":{"0":"hex",...},...}} for every PCR the log extends.
 * A refused log prints "FAIL: <detail>" on stderr and exits 1; usage and
 * I/O errors exit 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/encode.h"
#include "common/err.h"
#include "common/xmalloc.h"
#include "common/evidence/eventlog.h"
#include "common/evidence/tpm2.h"
#include "tools/cmd.h"
#include "tools/eventlog_cmd.h"

#define EVENTLOG_FILE_MAX	(64u * 1024 * 1024)
#define DESC_MAX		160

/* A short description of what the event carries. */
static char *
describe(const struct eventlog *el, const struct el_event *e)
{
	char guid[EFI_GUID_STRLEN], *s, *name, *out;
	struct efi_var v;
	struct cur dp, c;
	uint64_t ilen;
	uint32_t id, len;

	switch (e->type) {
	case EV_EFI_VARIABLE_DRIVER_CONFIG:
	case EV_EFI_VARIABLE_BOOT:
	case EV_EFI_VARIABLE_BOOT2:
	case EV_EFI_VARIABLE_AUTHORITY:
		if (efi_var_parse(&e->data, &v) != 0)
			break;
		efi_guid_format(v.guid, guid);
		name = efi_utf16_to_utf8(&v.name);
		out = xasprintf("%s {%s} %zu bytes", name, guid, v.data.len);
		free(name);
		return out;
	case EV_EFI_BOOT_SERVICES_APPLICATION:
	case EV_EFI_BOOT_SERVICES_DRIVER:
	case EV_EFI_RUNTIME_SERVICES_DRIVER:
		if (efi_image_load_parse(&e->data, el->uintn_size, &ilen, &dp) != 0)
			break;
		return xasprintf("image %llu bytes, device path %zu bytes",
		    (unsigned long long)ilen, dp.len);
	case EV_EVENT_TAG:
		c = e->data;
		if (cur_u32le(&c, &id) != 0 || cur_u32le(&c, &len) != 0 ||
		    len != cur_left(&c))
			break;
		s = eventlog_string_decode(&c);
		out = xasprintf("tag 0x%08x %s", id, s);
		free(s);
		return out;
	case EV_SEPARATOR:
		return hex_encode(e->data.p, e->data.len > 8 ? 8 : e->data.len);
	case EV_NO_ACTION:
	case EV_IPL:
	case EV_EFI_ACTION:
	case EV_ACTION:
	case EV_S_CRTM_VERSION:
	case EV_POST_CODE:
	case EV_EFI_HCRTM_EVENT:
	case EV_OMIT_BOOT_DEVICE_EVENTS:
		if (e->type == EV_NO_ACTION && e->data.len == 17 &&
		    memcmp(e->data.p, "StartupLocality", 16) == 0)
			return xasprintf("StartupLocality %u", e->data.p[16]);
		if (e->type == EV_POST_CODE && e->data.len == 16)
			break;	/* UEFI_PLATFORM_FIRMWARE_BLOB */
		s = eventlog_string_decode(&e->data);
		if (strlen(s) > DESC_MAX)
			s[DESC_MAX] = '\0';
		return s;
	default:
		break;
	}
	return xasprintf("%zu bytes", e->data.len);
}

static int
show(const struct eventlog *el, int json)
{
	const struct el_event *e;
	const struct tpm2_hash *h;
	const char *tn;
	char *desc, *hex, tbuf[16];
	json_t *arr = NULL, *o, *dg;
	size_t i, k;

	if (json)
		arr = json_array();
	for (i = 0; i < el->n; i++) {
		e = &el->ev[i];
		if ((tn = eventlog_type_name(e->type)) == NULL) {
			snprintf(tbuf, sizeof(tbuf), "0x%08x", e->type);
			tn = tbuf;
		}
		desc = describe(el, e);
		if (!json) {
			h = tpm2_hash_by_alg(e->digest[0].alg);
			hex = hex_encode(e->digest[0].d, h->size);
			printf("%zu %u %s %s:%s %s\n", e->seq, e->pcr, tn,
			    h->name, hex, desc);
			free(hex);
			free(desc);
			continue;
		}
		o = json_object();
		json_object_set_new(o, "seq", json_integer((json_int_t)e->seq));
		json_object_set_new(o, "offset", json_integer((json_int_t)e->offset));
		json_object_set_new(o, "pcr", json_integer(e->pcr));
		json_object_set_new(o, "type", json_string(tn));
		dg = json_object();
		for (k = 0; k < e->ndigests; k++) {
			h = tpm2_hash_by_alg(e->digest[k].alg);
			hex = hex_encode(e->digest[k].d, h->size);
			json_object_set_new(dg, h->name, json_string(hex));
			free(hex);
		}
		json_object_set_new(o, "digests", dg);
		json_object_set_new(o, "size", json_integer((json_int_t)e->data.len));
		json_object_set_new(o, "description", json_string(desc));
		json_array_append_new(arr, o);
		free(desc);
	}
	if (json) {
		json_dumpf(arr, stdout, JSON_COMPACT);
		printf("\n");
		json_decref(arr);
	}
	return 0;
}

/* Always JSON: the second argument (--json) changes nothing. */
static int
replay(const struct eventlog *el, int json)
{
	struct el_pcrs *rp;
	const struct tpm2_hash *h;
	json_t *top, *banks, *b;
	char idx[4], *hex;
	size_t k;
	unsigned i;
	int r;

	(void)json;
	rp = xcalloc(1, sizeof(*rp));
	if ((r = eventlog_replay(el, rp)) != 0) {
		fprintf(stderr, "FAIL: %s\n", assay_err_detail());
		free(rp);
		return 1;
	}
	top = json_object();
	banks = json_object();
	for (k = 0; k < rp->nbanks; k++) {
		h = tpm2_hash_by_alg(rp->bank[k].alg);
		b = json_object();
		for (i = 0; i < TPM2_PCR_COUNT; i++) {
			/* PCRs 0-7 always: an empty log shows where they start */
			if (i > 7 && !(rp->bank[k].touched & (1u << i)))
				continue;
			snprintf(idx, sizeof(idx), "%u", i);
			hex = hex_encode(rp->bank[k].v[i], h->size);
			json_object_set_new(b, idx, json_string(hex));
			free(hex);
		}
		json_object_set_new(banks, h->name, b);
	}
	json_object_set_new(top, "banks", banks);
	json_dumpf(top, stdout, JSON_COMPACT);
	printf("\n");
	json_decref(top);
	free(rp);
	return 0;
}

/* Load and parse the log named by the row's FILE, then run fn on it. */
static int
with_log(struct cmd_args *a, int (*fn)(const struct eventlog *, int))
{
	struct eventlog el;
	uint8_t *d = NULL;
	size_t n = 0;
	int rc;

	if (cmd_load(a->pos[0], EVENTLOG_FILE_MAX, &d, &n) != 0)
		return 2;
	if (eventlog_parse(d, n, &el) != 0) {
		fprintf(stderr, "FAIL: %s\n", assay_err_detail());
		free(d);
		return 1;
	}
	rc = fn(&el, cmd_flag(a, OPT_JSON));
	eventlog_free(&el);
	free(d);
	return rc;
}

int
cmd_eventlog_show(struct cmd_args *a)
{
	return with_log(a, show);
}

int
cmd_eventlog_replay(struct cmd_args *a)
{
	return with_log(a, replay);
}
