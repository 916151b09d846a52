/*
 * daemon.c — argument parsing, config-relative paths, detaching and the
 * sd_notify datagram, shared by assay-agent and assay-verifier.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

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
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	socklen_t len;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    strlen(path) >= sizeof(sun.sun_path))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0';		/* abstract namespace */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return;
	(void)sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sun, len);
	close(fd);
}
