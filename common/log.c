/*
 * log.c — the process-wide logger: a level threshold and one formatted
 * write(2) per line to stderr.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

static const char *log_prog = "assay";
static int log_threshold = LOG_LVL_INFO;

void
log_init(const char *progname, int verbosity)
{
	log_prog = progname;
	log_threshold = LOG_LVL_INFO + verbosity;
	if (log_threshold < LOG_LVL_ERR)
		log_threshold = LOG_LVL_ERR;
}

int
log_verbosity(void)
{
	return log_threshold - LOG_LVL_INFO;
}

void
log_vmsg(int level, const char *fmt, va_list ap)
{
	char line[2048];
	int n, m;

	if (level > log_threshold)
		return;
	n = snprintf(line, sizeof(line), "<%d>%s: ", level, log_prog);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	/* Never let a control character from input forge a log line. */
	for (int i = 0; i < n; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
}

void
log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	char msg[1024];
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(LOG_LVL_WARN, "%s: %s", msg, strerror(saved));
	errno = saved;
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}
