/*
 * daemon.h — small pieces both daemons share: command-line handling
 * (-c FILE -f -n -v), resolving config-relative paths, going to the
 * background, and telling systemd we are ready (sd_notify protocol).
 */
#ifndef ASSAY_DAEMON_H
#define ASSAY_DAEMON_H

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
/* Send "READY=1" etc. to $NOTIFY_SOCKET when set; no-op otherwise. */
void	daemon_notify(const char *state);

#endif
