/*
 * test_agents.c — the verifier's agent registry: an agent deleted while
 * its round is in flight is removed by object, so when that round comes
 * back it cannot take a re-registered agent of the same id with it.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strmap.h"
#include "verifier/verifier.h"

START_TEST(late_round_of_a_deleted_agent_keeps_its_successor)
{
	struct verifier v;
	struct agent_rec rec;
	struct vagent *old, *cur;

	memset(&v, 0, sizeof(v));
	memset(&rec, 0, sizeof(rec));
	v.agents = strmap_new();
	snprintf(rec.id, sizeof(rec.id), "web1");
	old = agent_add(&v, &rec);
	old->inflight = 1;		/* a poll or verification is running */
	agent_remove(old);		/* DELETE /v1/agents/web1 */
	ck_assert_int_eq(old->deleted, 1);
	ck_assert_ptr_null(strmap_get(v.agents, "web1"));
	cur = agent_add(&v, &rec);	/* web1 enrolls again */
	old->inflight = 0;
	agent_remove(old);		/* the old round comes back */
	ck_assert_ptr_eq(strmap_get(v.agents, "web1"), cur);
	agent_remove(cur);
	ck_assert_ptr_null(strmap_get(v.agents, "web1"));
	strmap_free(v.agents);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("agents");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, late_round_of_a_deleted_agent_keeps_its_successor);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
