/*
 * test_notify.c — notification pieces that need no network: webhook URL
 * parsing and refusals, the JSON body, the backoff schedule, and the
 * persistent queue in the store (rows land with the state change in one
 * transaction, are read back with their event, rescheduled and deleted).
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "verifier/notify.h"
#include "verifier/store.h"

START_TEST(url_parses_host_port_path)
{
	struct notify_url u;

	ck_assert_int_eq(notify_url_parse("https://hooks.example:8443/a/b?x=1", &u),
	    ASSAY_OK);
	ck_assert_str_eq(u.host, "hooks.example");
	ck_assert_uint_eq(u.port, 8443);
	ck_assert_str_eq(u.path, "/a/b?x=1");
	ck_assert_int_eq(notify_url_parse("https://h.example", &u), ASSAY_OK);
	ck_assert_uint_eq(u.port, 443);
	ck_assert_str_eq(u.path, "/");
	ck_assert_int_eq(notify_url_parse("https://[::1]:9000/hook", &u), ASSAY_OK);
	ck_assert_str_eq(u.host, "::1");
	ck_assert_uint_eq(u.port, 9000);
	ck_assert_int_eq(notify_url_parse("https://[::1]/hook", &u), ASSAY_OK);
	ck_assert_uint_eq(u.port, 443);
}
END_TEST

START_TEST(url_refuses_http_userinfo_and_junk)
{
	struct notify_url u;

	ck_assert_int_eq(notify_url_parse("http://h.example/", &u), ASSAY_ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "not an https://"));
	ck_assert_int_eq(notify_url_parse("https://user@h.example/", &u),
	    ASSAY_ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "user info"));
	ck_assert_int_eq(notify_url_parse("https://h.example/a b", &u),
	    ASSAY_ERR_INVAL);
	ck_assert_int_eq(notify_url_parse("https://h.example/#frag", &u),
	    ASSAY_ERR_INVAL);
	ck_assert_int_eq(notify_url_parse("https:///path", &u), ASSAY_ERR_INVAL);
	ck_assert_int_eq(notify_url_parse("https://h.example:0/", &u),
	    ASSAY_ERR_INVAL);
	ck_assert_int_eq(notify_url_parse("https://h.example:99999/", &u),
	    ASSAY_ERR_INVAL);
}
END_TEST

START_TEST(body_has_every_field)
{
	struct store_event ev = { 0 };
	json_t *o;
	char *s;

	ev.seq = 42;
	ev.time = 1700000000;
	ev.agent_id = "a1";
	ev.old_state = "trusted";
	ev.new_state = "untrusted";
	ev.failure_id = "pcr.value";
	ev.detail = "PCR 16 \"x\"";
	s = notify_body(&ev);
	ck_assert_ptr_nonnull(o = json_loads(s, 0, NULL));
	ck_assert_str_eq(json_string_value(json_object_get(o, "agent")), "a1");
	ck_assert_str_eq(json_string_value(json_object_get(o, "old_state")), "trusted");
	ck_assert_str_eq(json_string_value(json_object_get(o, "new_state")), "untrusted");
	ck_assert_str_eq(json_string_value(json_object_get(o, "failure_id")), "pcr.value");
	ck_assert_str_eq(json_string_value(json_object_get(o, "detail")), "PCR 16 \"x\"");
	ck_assert_str_eq(json_string_value(json_object_get(o, "time")),
	    "2023-11-14T22:13:20Z");
	ck_assert_int_eq(json_integer_value(json_object_get(o, "event_seq")), 42);
	json_decref(o);
	free(s);
}
END_TEST

START_TEST(body_nulls_absent_failure)
{
	struct store_event ev = { 0 };
	json_t *o;
	char *s;

	ev.agent_id = "a1";
	ev.old_state = "pending";
	ev.new_state = "trusted";
	s = notify_body(&ev);
	ck_assert_ptr_nonnull(o = json_loads(s, 0, NULL));
	ck_assert(json_is_null(json_object_get(o, "failure_id")));
	ck_assert(json_is_null(json_object_get(o, "detail")));
	json_decref(o);
	free(s);
}
END_TEST

START_TEST(backoff_doubles_to_cap)
{
	ck_assert_int_eq(notify_backoff(1), 2);
	ck_assert_int_eq(notify_backoff(2), 4);
	ck_assert_int_eq(notify_backoff(5), 32);
	ck_assert_int_eq(notify_backoff(9), 512);
	ck_assert_int_eq(notify_backoff(10), NOTIFY_BACKOFF_MAX);
	ck_assert_int_eq(notify_backoff(1000), NOTIFY_BACKOFF_MAX);
}
END_TEST

static char dbpath[256];

static struct store *
open_tmp(void)
{
	struct store *s;
	int fd;

	snprintf(dbpath, sizeof(dbpath), "/tmp/test_notify.XXXXXX");
	ck_assert_int_ge(fd = mkstemp(dbpath), 0);
	close(fd);
	unlink(dbpath);
	ck_assert_int_eq(store_open(dbpath, &s), ASSAY_OK);
	return s;
}

static void
close_tmp(struct store *s)
{
	char p[300];

	store_close(s);
	unlink(dbpath);
	snprintf(p, sizeof(p), "%s-wal", dbpath);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", dbpath);
	unlink(p);
}

static void
state_event(struct store_event *ev, struct agent_rec *a)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->id, sizeof(a->id), "a1");
	a->state = AGENT_UNTRUSTED;
	memset(ev, 0, sizeof(*ev));
	ev->type = "state";
	ev->old_state = "trusted";
	ev->new_state = "untrusted";
	ev->failure_id = "pcr.value";
}

START_TEST(queue_rows_land_with_the_state_change)
{
	static const char *const targets[2] = { "https://h/hook", "command:/bin/true" };
	struct store *s = open_tmp();
	struct store_notification *q;
	struct store_event ev;
	struct agent_rec a;
	int64_t cnt, next;
	size_t n;

	state_event(&ev, &a);
	ck_assert_int_eq(store_agent_put_notify(s, &a, &ev, targets, 2), ASSAY_OK);
	ck_assert_int_eq(store_notify_count(s, &cnt, &next), ASSAY_OK);
	ck_assert_int_eq(cnt, 2);
	ck_assert_int_eq(store_notify_pending(s, next, 10, &q, &n), ASSAY_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(q[0].target, "https://h/hook");
	ck_assert_str_eq(q[1].target, "command:/bin/true");
	ck_assert_str_eq(q[0].ev.agent_id, "a1");
	ck_assert_str_eq(q[0].ev.new_state, "untrusted");
	ck_assert_str_eq(q[0].ev.failure_id, "pcr.value");
	ck_assert_int_gt(q[0].ev.seq, 0);
	ck_assert_int_eq(q[0].attempts, 0);
	for (size_t i = 0; i < n; i++)
		store_notification_free(&q[i]);
	free(q);
	close_tmp(s);
}
END_TEST

START_TEST(queue_rejected_put_queues_nothing)
{
	static const char *const targets[1] = { "https://h/hook" };
	struct store *s = open_tmp();
	struct store_event ev;
	struct agent_rec a;
	int64_t cnt;

	state_event(&ev, &a);
	a.state = 99;	/* the agent row is refused: no notification either */
	ck_assert_int_eq(store_agent_put_notify(s, &a, &ev, targets, 1),
	    ASSAY_ERR_INVAL);
	ck_assert_int_eq(store_agent_put_notify(s, &a, NULL, targets, 1),
	    ASSAY_ERR_INVAL);
	ck_assert_int_eq(store_notify_count(s, &cnt, NULL), ASSAY_OK);
	ck_assert_int_eq(cnt, 0);
	close_tmp(s);
}
END_TEST

START_TEST(queue_retry_defers_and_done_deletes)
{
	static const char *const targets[1] = { "https://h/hook" };
	struct store *s = open_tmp();
	struct store_notification *q;
	struct store_event ev;
	struct agent_rec a;
	int64_t cnt, next, id;
	size_t n;

	state_event(&ev, &a);
	ck_assert_int_eq(store_agent_put_notify(s, &a, &ev, targets, 1), ASSAY_OK);
	ck_assert_int_eq(store_notify_count(s, &cnt, &next), ASSAY_OK);
	ck_assert_int_eq(store_notify_pending(s, next, 10, &q, &n), ASSAY_OK);
	ck_assert_uint_eq(n, 1);
	id = q[0].id;
	store_notification_free(&q[0]);
	free(q);
	ck_assert_int_eq(store_notify_retry(s, id, next + 100, 3), ASSAY_OK);
	ck_assert_int_eq(store_notify_pending(s, next + 99, 10, &q, &n), ASSAY_OK);
	ck_assert_uint_eq(n, 0);
	free(q);
	ck_assert_int_eq(store_notify_pending(s, next + 100, 10, &q, &n), ASSAY_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(q[0].attempts, 3);
	store_notification_free(&q[0]);
	free(q);
	ck_assert_int_eq(store_notify_due_all(s, next), ASSAY_OK);
	ck_assert_int_eq(store_notify_count(s, &cnt, &next), ASSAY_OK);
	ck_assert_int_eq(store_notify_pending(s, next, 10, &q, &n), ASSAY_OK);
	ck_assert_uint_eq(n, 1);
	store_notification_free(&q[0]);
	free(q);
	ck_assert_int_eq(store_notify_done(s, id), ASSAY_OK);
	ck_assert_int_eq(store_notify_done(s, id), ASSAY_ERR_NOT_FOUND);
	ck_assert_int_eq(store_notify_count(s, &cnt, NULL), ASSAY_OK);
	ck_assert_int_eq(cnt, 0);
	close_tmp(s);
}
END_TEST

START_TEST(queue_survives_reopen)
{
	static const char *const targets[1] = { "https://h/hook" };
	struct store *s = open_tmp();
	struct store_event ev;
	struct agent_rec a;
	int64_t cnt;

	state_event(&ev, &a);
	ck_assert_int_eq(store_agent_put_notify(s, &a, &ev, targets, 1), ASSAY_OK);
	store_close(s);
	ck_assert_int_eq(store_open(dbpath, &s), ASSAY_OK);
	ck_assert_int_eq(store_notify_count(s, &cnt, NULL), ASSAY_OK);
	ck_assert_int_eq(cnt, 1);
	close_tmp(s);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("notify");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, url_parses_host_port_path);
	tcase_add_test(tc, url_refuses_http_userinfo_and_junk);
	tcase_add_test(tc, body_has_every_field);
	tcase_add_test(tc, body_nulls_absent_failure);
	tcase_add_test(tc, backoff_doubles_to_cap);
	tcase_add_test(tc, queue_rows_land_with_the_state_change);
	tcase_add_test(tc, queue_rejected_put_queues_nothing);
	tcase_add_test(tc, queue_retry_defers_and_done_deletes);
	tcase_add_test(tc, queue_survives_reopen);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
