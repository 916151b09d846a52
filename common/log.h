/*
 * log.h — logging to stderr with syslog priority prefixes ("<3>") so that
 * journald files each line at the right level. One write per line; safe
 * from any thread.
 */
#ifndef ASSAY_LOG_H
#define ASSAY_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_ERR = 3, LOG_LVL_WARN = 4, LOG_LVL_NOTICE = 5,
    LOG_LVL_INFO = 6, LOG_LVL_DEBUG = 7 };

void	log_init(const char *progname, int verbosity);
void	log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void	log_vmsg(int level, const char *fmt, va_list ap);
int	log_verbosity(void);

#define log_err(...)	log_msg(LOG_LVL_ERR, __VA_ARGS__)
/* As in OpenBSD's daemons: log_warn appends ": strerror(errno)", log_warnx not. */
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define log_warnx(...)	log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_notice(...)	log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

void	fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
