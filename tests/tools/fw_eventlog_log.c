/*
 * fw_eventlog_log.c — fw_eventlog's log file: the queued events written
 * as a TCG crypto-agile log (Spec ID Event03 first), with the attacks on
 * the file applied (-D drops, -O swaps, -U duplicates, -C cuts), to
 * LOG.tmp and renamed so that a reader never sees half of it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/evidence/eventlog.h"
#include "common/evidence/tpm2.h"
#include "common/xmalloc.h"
#include "tests/tools/fw_eventlog.h"

static void
spec_id(struct buf *out)
{
	struct buf e;
	static const uint8_t zeros[20];

	buf_init(&e);
	buf_put(&e, "Spec ID Event03", 16);
	le32(&e, 0);			/* platformClass: client */
	buf_put(&e, "\x00\x02\x00\x02", 4);	/* 2.0 errata 0, UINTN = 8 bytes */
	le32(&e, NBANKS);
	for (int i = 0; i < NBANKS; i++) {
		le16(&e, banks[i]);
		le16(&e, (uint16_t)tpm2_hash_by_alg(banks[i])->size);
	}
	buf_put(&e, "\x00", 1);		/* no vendor info */
	le32(out, 0);
	le32(out, EV_NO_ACTION);
	buf_put(out, zeros, 20);
	le32(out, (uint32_t)e.len);
	buf_put(out, e.d, e.len);
	buf_free(&e);
}

static void
write_event(struct buf *out, const struct fwev *e)
{
	uint32_t n = 0;

	for (int i = 0; i < NBANKS; i++)
		n += (e->banks >> i) & 1u;
	le32(out, e->log_pcr);
	le32(out, e->type);
	le32(out, n);
	for (int i = 0; i < NBANKS; i++) {
		if (!((e->banks >> i) & 1u))
			continue;
		le16(out, banks[i]);
		buf_put(out, e->logged[i], tpm2_hash_by_alg(banks[i])->size);
	}
	le32(out, (uint32_t)e->len);
	buf_put(out, e->data, e->len);
}


static int
in_list(const uint32_t *l, size_t n, uint32_t v)
{
	for (size_t i = 0; i < n; i++)
		if (l[i] == v)
			return 1;
	return 0;
}


/* The log of the queued events, with ed's edits, to path; 0, or 1 (said). */
int
fw_write_log(const char *path, struct fw_logedits *ed)
{
	size_t *order, nord = 0;
	struct buf out;
	char *tmp;
	FILE *f;

	/* The log as written: drops, swaps, duplicates. */
	order = xcalloc(2 * nevs + 1, sizeof(*order));
	for (size_t i = 0; i < nevs; i++) {
		if (!evs[i].do_log || in_list(ed->drop, ed->ndrop, evs[i].log_pcr))
			continue;
		order[nord++] = i;
		if (in_list(ed->dup, ed->ndup, evs[i].log_pcr)) {
			order[nord++] = i;	/* the first one only */
			for (size_t k = 0; k < ed->ndup; k++)
				if (ed->dup[k] == evs[i].log_pcr)
					ed->dup[k] = 0xfffffffeu;
		}
	}
	for (size_t k = 0; k < ed->nswap; k++) {
		size_t a = nord, b = nord, t;

		for (size_t i = 0; i < nord; i++) {
			if (evs[order[i]].log_pcr != ed->swap[k])
				continue;
			if (a == nord)
				a = i;
			else {
				b = i;
				break;
			}
		}
		if (b == nord)
			dief("-O: fewer than two logged events in PCR", "");
		t = order[a];
		order[a] = order[b];
		order[b] = t;
	}
	buf_init(&out);
	spec_id(&out);
	for (size_t i = 0; i < nord; i++)
		write_event(&out, &evs[order[i]]);
	if (ed->cut > 0) {
		if (ed->cut >= out.len)
			dief("-C: the log is shorter than that", "");
		out.len -= ed->cut;
	}
	tmp = xasprintf("%s.tmp", path);
	if ((f = fopen(tmp, "wb")) == NULL || fwrite(out.d, 1, out.len, f) != out.len ||
	    fclose(f) != 0 || rename(tmp, path) != 0) {
		perror(path);
		return 1;
	}
	free(tmp);
	free(order);
	buf_free(&out);
	return 0;
}
