/*
 * fuzz_eventlog.c — libFuzzer harness for the firmware event log: parse
 * arbitrary bytes, replay every bank, decode the facts of every bank,
 * walk the key databases and check every event's data digest.
 * Seeds: tests/fuzz/seeds/fuzz_eventlog (small real logs).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/err.h"
#include "common/evidence/bind.h"
#include "common/evidence/eventlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
sig_cb(const uint8_t type[16], const uint8_t owner[16], const struct cur *sig,
    void *arg)
{
	(*(size_t *)arg) += sig->len;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct el_pcrs rp;
	static struct el_facts f;
	struct eventlog el;
	size_t i, k, total = 0;

	if (eventlog_parse(data, size, &el) != ASSAY_OK)
		return 0;
	/* every parsed log names its banks (zero events need a Spec ID) */
	if (el.nalgs == 0)
		abort();
	(void)eventlog_replay(&el, &rp);
	for (i = 0; i < el.n; i++)
		for (k = 0; k < el.ev[i].ndigests; k++)
			(void)eventlog_data_matches(&el.ev[i], el.ev[i].digest[k].alg);
	for (k = 0; k < el.nalgs; k++) {
		if (eventlog_facts(&el, el.alg[k].alg, BIND_ALL_PCRS, &f) != ASSAY_OK)
			continue;
		(void)efi_siglist_foreach(&f.db.data, sig_cb, &total);
		(void)efi_siglist_foreach(&f.dbx.data, sig_cb, &total);
		(void)efi_siglist_foreach(&f.pk.data, sig_cb, &total);
		(void)eventlog_loadopts_match(&f, "console=ttyS0");
		eventlog_facts_free(&f);
	}
	eventlog_free(&el);
	return 0;
}
