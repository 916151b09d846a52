/*
 * fw_eventlog.h — internal to the fw_eventlog test tool
 * (tests/tools/fw_eventlog*.c; its usage is at the head of fw_eventlog.c):
 * the queue of events to log and extend, and what its modules call of
 * each other:
 *   fw_eventlog.c         options, the genuine boot's sequence, the extends
 *   fw_eventlog_events.c  the event queue and the TCG/UEFI encodings
 *   fw_eventlog_edit.c    -e (one more event) and -L (relabel one) specs
 *   fw_eventlog_log.c     the log file, with -D/-O/-U/-C applied
 */
#ifndef ASSAY_FW_EVENTLOG_H
#define ASSAY_FW_EVENTLOG_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define NBANKS	2
#define MAXLIST	32

enum { M_BOTH, M_LOG, M_EXTEND };

struct fwev {
	uint32_t	 pcr;		/* PCR extended */
	uint32_t	 log_pcr;	/* PCR written in the log */
	uint32_t	 type;
	uint8_t		*data;
	size_t		 len;
	uint8_t		 ext[NBANKS][32];	/* digests extended */
	uint8_t		 logged[NBANKS][32];	/* digests written in the log */
	int		 do_log, do_ext;
	unsigned	 banks;		/* bit i: banks[i] logged and extended */
};

/* fw_eventlog_events.c: the queue, and how events being added are queued */
extern const uint16_t banks[NBANKS];
extern struct fwev *evs;
extern size_t nevs;
extern int cur_mode;		/* mode of the events being added */
extern unsigned cur_banks;	/* banks of the events being added */
/* the attacks on the genuine events (-T, -k, -V) */
extern int tamper, tamper_pk;
extern const char *moved_var;
extern uint32_t moved_pcr;
/* GUIDs in their in-memory (mixed-endian) byte order */
extern const uint8_t efi_global[16], efi_secdb[16], cert_sha256[16];

void die(const char *what) __attribute__((noreturn));
void dief(const char *what, const char *arg) __attribute__((noreturn));
void le16(struct buf *b, uint16_t v);
void le32(struct buf *b, uint32_t v);
void le64(struct buf *b, uint64_t v);
void hash_all(const void *p, size_t n, uint8_t d[NBANKS][32]);
void event_with(uint32_t pcr, uint32_t type, const uint8_t *data, size_t len,
    uint8_t d[NBANKS][32], uint8_t logged[NBANKS][32]);
void event(uint32_t pcr, uint32_t type, const uint8_t *data, size_t len);
void utf16(struct buf *b, const char *s);
void var_data(struct buf *v, const uint8_t guid[16], const char *name,
    const uint8_t *val, size_t len);
void variable(const uint8_t guid[16], const char *name, const uint8_t *val,
    size_t len);
void siglist(struct buf *b, const uint8_t type[16], const uint8_t *const *sigs,
    size_t n, size_t size);
void cert_list(struct buf *b, const char *who);
void key_db(const uint8_t guid[16], const char *name);
void app(const char *spec);
void grub_string(struct buf *v, uint8_t d[NBANKS][32], const char *label,
    const char *text);
void grub_real(const char *cmdline);

/* fw_eventlog_edit.c */
uint32_t parse_u32(const char *s, const char *what);
void extra_event(const char *spec);
void relabel(const char *spec);

/* fw_eventlog_log.c: the attacks on the file (-D, -O, -U, -C) */
struct fw_logedits {
	uint32_t	 drop[MAXLIST], swap[MAXLIST], dup[MAXLIST];
	size_t		 ndrop, nswap, ndup;
	size_t		 cut;		/* bytes cut off the end */
};
int fw_write_log(const char *path, struct fw_logedits *ed);

#endif
