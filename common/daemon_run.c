/*
 * daemon_run.c — the skeleton of assay-agent and assay-verifier
 * (daemon.h's daemon_run): each daemon supplies how to configure, start,
 * reload and stop itself; the order of things, the signals, the systemd
 * protocol and the teardown are the same for both and written once.
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "common/daemon.h"
#include "common/err.h"
#include "common/log.h"

struct run {
	const struct daemon_ops	*ops;
	void			*ctx;
	struct event_base	*base;
};

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct run *run = arg;

	(void)what;
	if (sig == SIGHUP) {
		if (run->ops->reload != NULL)
			run->ops->reload(run->ctx);
		return;
	}
	log_notice("signal %d: shutting down", (int)sig);
	daemon_notify("STOPPING=1");
	event_base_loopexit(run->base, NULL);
}

/*
 * The daemon's event base. epoll's change list: an fd's interest changes
 * within one loop iteration are merged into one epoll_ctl (a kept-open
 * connection's round costs 3 calls, not 6). Its one hazard, an fd
 * dup()ed and one copy closed, never arises: no descriptor given to
 * libevent is duplicated. A precise timer: with the coarse clock (4 ms
 * ticks) the loop wakes up to four times, 1 ms apart, before a timer it
 * thinks not yet due fires.
 */
static struct event_base *
base_new(void)
{
	struct event_config *cfg;
	struct event_base *base;

	if ((cfg = event_config_new()) == NULL)
		return NULL;
	(void)event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST |
	    EVENT_BASE_FLAG_PRECISE_TIMER);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

/*
 * Buffers of 1 MiB and more (IMA pages, event logs, their audit records)
 * are mapped and unmapped, never kept in the heap: glibc otherwise
 * raises its mmap threshold after the first such free, later pages come
 * from the heap, and peak RSS depends on fragmentation (t_ima_big: the
 * verifier's growth under a 16 MiB IMA budget ranged from 60 to 152 MB
 * across runs). A fixed threshold also fixes the trim threshold.
 */
static void
malloc_tune(void)
{
#ifdef M_MMAP_THRESHOLD
	(void)mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
#endif
}

/* The loop until a stop signal; 0 once it ran, 1 if it never could. */
static int
run_loop(struct run *run)
{
	static const int signos[] = { SIGINT, SIGTERM, SIGHUP };
	struct event *sigs[3] = { NULL, NULL, NULL }, *wd = NULL;
	int r = 1;

	/* Worker threads wake the loop: libevent's locking must be on. */
	if (evthread_use_pthreads() != 0 ||
	    (run->base = base_new()) == NULL)
		fatalx("libevent initialisation failed");
	if (run->ops->start(run->ctx, run->base) != 0)
		goto out;
	for (size_t i = 0; i < 3; i++) {
		sigs[i] = evsignal_new(run->base, signos[i], on_signal, run);
		evsignal_add(sigs[i], NULL);
	}
	daemon_notify("READY=1");
	wd = daemon_watchdog_start(run->base);
	event_base_dispatch(run->base);
	r = 0;
 out:
	if (wd != NULL)
		event_free(wd);
	for (size_t i = 0; i < 3; i++)
		if (sigs[i] != NULL)
			event_free(sigs[i]);
	return r;
}

int
daemon_run(int argc, char **argv, const struct daemon_ops *ops, void *ctx)
{
	struct run run = { .ops = ops, .ctx = ctx };
	struct daemon_opts o;
	int r = 1;

	malloc_tune();
	daemon_parse_args(argc, argv, ops->prog, ops->default_config, &o);
	log_init(ops->prog, o.verbose);
	if (ops->configure(ctx, o.config) != 0) {
		fprintf(stderr, "%s: %s\n", ops->prog, assay_err_detail());
		goto out;
	}
	if (o.check_only) {
		if (ops->check != NULL && ops->check(ctx) != 0) {
			fprintf(stderr, "%s: %s\n", ops->prog, assay_err_detail());
			goto out;
		}
		printf("configuration OK\n");
		r = 0;
		goto out;
	}
	daemon_detach(&o);
	signal(SIGPIPE, SIG_IGN);
	r = run_loop(&run);
 out:
	ops->stop(ctx);
	if (run.base != NULL)
		event_base_free(run.base);
	return r;
}
