/*
 * daemon.h — small pieces both daemons share: command-line handling
 * (-c FILE -f -n -v), resolving config-relative paths, going to the
 * background, and telling systemd we are ready (sd_notify protocol).
 */
#ifndef ASSAY_DAEMON_H
#define ASSAY_DAEMON_H

#include <event2/event.h>

struct daemon_opts {
	const char	*config;
	int		 foreground;
	int		 check_only;
	int		 verbose;
};

/* Parse argv; prints usage and exits 1 on error. */
void	daemon_parse_args(int argc, char **argv, const char *prog,
	    const char *default_config, struct daemon_opts *o);
/* A relative path in *p becomes relative to the config file's directory. */
void	daemon_resolve_path(const char *config, char **p);
/* Detach unless foreground; stderr stays for logs. */
void	daemon_detach(const struct daemon_opts *o);
/* Send "READY=1" etc. to systemd when run as a notify service; else no-op. */
void	daemon_notify(const char *state);
/*
 * When systemd set WatchdogSec=, ping it from base's loop at half the
 * interval; returns the timer (caller frees) or NULL when not watched.
 */
struct event	*daemon_watchdog_start(struct event_base *base);

/*
 * The skeleton both daemons run (daemon_run.c): arguments, logging, the
 * configuration (checked, and with -n reported and nothing more), going
 * to the background, the event loop with SIGINT/SIGTERM (stop) and
 * SIGHUP (reload), systemd readiness and watchdog, and teardown.
 */
struct daemon_ops {
	const char	*prog;
	const char	*default_config;
	/* Read and check the configuration: 0, or an error whose detail is
	 * printed to stderr. */
	int		(*configure)(void *ctx, const char *config);
	/* On base, after detaching: open, load and listen. 0, or an error
	 * (logged by the callee). */
	int		(*start)(void *ctx, struct event_base *base);
	void		(*reload)(void *ctx);
	/* -n, after configure: deeper checks (a database), optional. 0, or an
	 * error whose detail is printed to stderr. */
	int		(*check)(void *ctx);
	/* Free everything, whatever stage was reached (base still exists). */
	void		(*stop)(void *ctx);
};

/* The process's exit status. */
int	daemon_run(int argc, char **argv, const struct daemon_ops *ops, void *ctx);

#endif
