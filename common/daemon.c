/*
 * daemon.c — argument parsing, config-relative paths, detaching, and the
 * systemd protocol (READY/STOPPING/WATCHDOG through libsystemd's
 * sd_notify), shared by assay-agent and assay-verifier.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "common/daemon.h"
#include "common/log.h"
#include "common/xmalloc.h"

static void __attribute__((noreturn))
usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-fnv] [-c config]\n"
	    "  -c FILE  configuration file\n"
	    "  -f       stay in the foreground\n"
	    "  -n       check the configuration and exit\n"
	    "  -v       more verbose logging (repeat for debug)\n", prog);
	exit(1);
}

void
daemon_parse_args(int argc, char **argv, const char *prog,
    const char *default_config, struct daemon_opts *o)
{
	int ch;

	memset(o, 0, sizeof(*o));
	o->config = default_config;
	while ((ch = getopt(argc, argv, "c:fnv")) != -1) {
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 'f':
			o->foreground = 1;
			break;
		case 'n':
			o->check_only = 1;
			break;
		case 'v':
			o->verbose++;
			break;
		default:
			usage(prog);
		}
	}
	if (optind != argc)
		usage(prog);
}

void
daemon_resolve_path(const char *config, char **p)
{
	const char *slash;
	char *n;

	if (*p == NULL || (*p)[0] == '/' || (*p)[0] == '\0' ||
	    (slash = strrchr(config, '/')) == NULL)
		return;
	n = xasprintf("%.*s/%s", (int)(slash - config), config, *p);
	free(*p);
	*p = n;
}

void
daemon_detach(const struct daemon_opts *o)
{
	if (o->foreground)
		return;
	if (daemon(0, 1) != 0)
		fatalx("daemon: cannot detach");
}

void
daemon_notify(const char *state)
{
	(void)sd_notify(0, state);	/* no-op without $NOTIFY_SOCKET */
}

static void
watchdog_ping(evutil_socket_t fd, short what, void *arg)
{
	(void)sd_notify(0, "WATCHDOG=1");
}

struct event *
daemon_watchdog_start(struct event_base *base)
{
	struct timeval tv;
	struct event *ev;
	uint64_t usec = 0;

	/* Pinged from the event loop: a stuck loop stops the pings. */
	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return NULL;
	usec /= 2;
	tv.tv_sec = (time_t)(usec / 1000000);
	tv.tv_usec = (suseconds_t)(usec % 1000000);
	if ((ev = event_new(base, -1, EV_PERSIST, watchdog_ping, NULL)) == NULL)
		fatalx("watchdog: event_new failed");
	event_add(ev, &tv);
	log_info("systemd watchdog: pinging every %.1f s", (double)usec / 1e6);
	return ev;
}
