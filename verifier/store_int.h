/*
 * store_int.h — what store.c shares with store_notify.c (the notification
 * queue): the SQLite handle and the in-transaction insert.
 */
#ifndef ASSAY_STORE_INT_H
#define ASSAY_STORE_INT_H

#include <sqlite3.h>

#include "verifier/store.h"

sqlite3	*store_sqlite(struct store *s);
const char *store_path(const struct store *s);
/* Called by store_agent_put_notify inside its transaction. */
int	store_notify_insert_tx(struct store *s, int64_t event_seq,
	    const char *const *targets, size_t ntargets);

#endif
