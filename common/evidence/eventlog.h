/*
 * eventlog.h — the TCG PC Client firmware event log
 * (binary_bios_measurements): SHA-1 format and crypto-agile logs (Spec ID
 * Event03, any set of banks), EV_NO_ACTION handling (StartupLocality
 * seeds PCR 0, H-CRTM), replay of every bank, and the decoded facts a
 * measured-boot policy judges (secure boot state, key databases, boot
 * applications, command lines). Pure: bytes in, events and digests out;
 * no I/O, no globals. Events point into the caller's buffer.
 */
#ifndef ASSAY_EVENTLOG_H
#define ASSAY_EVENTLOG_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/evidence/pcr.h"
#include "common/evidence/tpm2.h"
#include "common/evidence/verdict.h"

#define EL_MAX_EVENTS		65536
#define EL_EVENT_DATA_MAX	(1u << 20)	/* one event's data */

/* Event types (TCG PC Client PFP, section 10.4.1) used by name here. */
#define EV_PREBOOT_CERT			0x00000000u
#define EV_POST_CODE			0x00000001u
#define EV_NO_ACTION			0x00000003u
#define EV_SEPARATOR			0x00000004u
#define EV_ACTION			0x00000005u
#define EV_EVENT_TAG			0x00000006u
#define EV_S_CRTM_CONTENTS		0x00000007u
#define EV_S_CRTM_VERSION		0x00000008u
#define EV_CPU_MICROCODE		0x00000009u
#define EV_PLATFORM_CONFIG_FLAGS	0x0000000au
#define EV_TABLE_OF_DEVICES		0x0000000bu
#define EV_COMPACT_HASH			0x0000000cu
#define EV_IPL				0x0000000du
#define EV_IPL_PARTITION_DATA		0x0000000eu
#define EV_NONHOST_CODE			0x0000000fu
#define EV_NONHOST_CONFIG		0x00000010u
#define EV_NONHOST_INFO			0x00000011u
#define EV_OMIT_BOOT_DEVICE_EVENTS	0x00000012u
#define EV_EFI_EVENT_BASE		0x80000000u
#define EV_EFI_VARIABLE_DRIVER_CONFIG	0x80000001u
#define EV_EFI_VARIABLE_BOOT		0x80000002u
#define EV_EFI_BOOT_SERVICES_APPLICATION 0x80000003u
#define EV_EFI_BOOT_SERVICES_DRIVER	0x80000004u
#define EV_EFI_RUNTIME_SERVICES_DRIVER	0x80000005u
#define EV_EFI_GPT_EVENT		0x80000006u
#define EV_EFI_ACTION			0x80000007u
#define EV_EFI_PLATFORM_FIRMWARE_BLOB	0x80000008u
#define EV_EFI_HANDOFF_TABLES		0x80000009u
#define EV_EFI_PLATFORM_FIRMWARE_BLOB2	0x8000000au
#define EV_EFI_HANDOFF_TABLES2		0x8000000bu
#define EV_EFI_VARIABLE_BOOT2		0x8000000cu
#define EV_EFI_HCRTM_EVENT		0x80000010u
#define EV_EFI_VARIABLE_AUTHORITY	0x800000e0u
#define EV_EFI_SPDM_FIRMWARE_BLOB	0x800000e1u
#define EV_EFI_SPDM_FIRMWARE_CONFIG	0x800000e2u

const char *eventlog_type_name(uint32_t type);	/* "EV_SEPARATOR", or NULL */

struct el_event {
	size_t		 seq;		/* 0-based position in the log */
	size_t		 offset;	/* byte offset in the log, for messages */
	uint32_t	 pcr;
	uint32_t	 type;
	size_t		 ndigests;
	struct {
		uint16_t	 alg;
		const uint8_t	*d;		/* tpm2_hash_by_alg(alg)->size bytes */
	} digest[TPM2_MAX_BANKS];
	struct cur	 data;		/* event data */
};

struct eventlog {
	int		 agile;		/* crypto-agile (Spec ID Event03) */
	/* Spec ID event */
	uint32_t	 platform_class;
	uint8_t		 spec_major, spec_minor, spec_errata, uintn_size;
	size_t		 nalgs;
	struct { uint16_t alg; uint16_t size; } alg[TPM2_MAX_BANKS];
	struct cur	 vendor_info;
	int		 has_locality;	/* StartupLocality event seen */
	uint8_t		 startup_locality;
	struct el_event	*ev;		/* every event, the Spec ID one excluded */
	size_t		 n;
};

/*
 * Parse a whole log. Truncated events, sizes larger than the buffer,
 * trailing garbage, digests of banks the Spec ID event did not announce,
 * unknown banks and zero-event logs are ASSAY_ERR_FORMAT/TRUNCATED with a
 * detail naming the event index and byte offset; nothing is returned then.
 */
int	eventlog_parse(const uint8_t *p, size_t n, struct eventlog *out);
void	eventlog_free(struct eventlog *el);

/* Replayed PCRs of every bank the log carries. */
struct el_pcrs {
	size_t	nbanks;
	struct {
		uint16_t	alg;
		uint32_t	touched;	/* bit i: some event extended PCR i */
		uint8_t		v[TPM2_PCR_COUNT][TPM2_MAX_DIGEST];
	} bank[TPM2_MAX_BANKS];
};

/*
 * Replay: PCRs 0-16 and 23 start at zeros (PCR 0 at the StartupLocality
 * value when the log has one), 17-22 at all ones; EV_NO_ACTION events are
 * not extended.
 */
int	eventlog_replay(const struct eventlog *el, struct el_pcrs *out);

/*
 * Compare the replay with the quoted value of every PCR of sel that is in
 * cover or that the log touches — an untouched PCR in cover must still
 * hold its initial value, so a log cannot drop a PCR's events; each
 * mismatch adds eventlog.replay naming PCR and bank. A quoted bank absent
 * from the log is also eventlog.replay.
 */
void	eventlog_check_pcrs(const struct el_pcrs *rp, const struct pcr_values *quoted,
	    const struct pcr_selection *sel, uint32_t cover, struct verdict *vd);

/*
 * Does the event's digest for alg equal alg's hash of its data (as the
 * spec defines for separators, EFI variables, EV_EFI_ACTION, EV_IPL
 * strings...)? 1 yes, 0 no, -1 the spec does not define the digest as a
 * hash of the data for this type (e.g. applications: Authenticode).
 */
int	eventlog_data_matches(const struct el_event *e, uint16_t alg);

/*
 * Label-free forms of the same, for the binding rule (an event's type and
 * any label prefix are covered by no digest). eventlog_hashed_text: is the
 * digest for alg the hash of the data, of the data without its trailing
 * NUL, or of the text after a boot loader prefix ("grub_cmd: ",
 * "kernel_cmdline: "...)? 1 with the hashed part in text and the prefix
 * in label, else 0. eventlog_data_bound: that, or the hash of the
 * variable data of a UEFI_VARIABLE_DATA; 1 or 0.
 */
int	eventlog_hashed_text(const struct el_event *e, uint16_t alg, struct cur *text,
	    struct cur *label);
int	eventlog_data_bound(const struct el_event *e, uint16_t alg);

/* ---- decoded facts for measured-boot policies ---- */

#define EL_MAX_ITEMS	256

struct el_var {
	int		 present;	/* measured at all */
	int		 verified;	/* event digest == hash of its data */
	uint8_t		 guid[16];
	struct cur	 data;		/* variable data (EFI_SIGNATURE_LISTs for PK...) */
	/* additions */
	uint32_t	 pcr;		/* PCR of the event it came from */
	const uint8_t	*digest;	/* that event's digest in the facts' bank */
	size_t		 repeated;	/* further measurements of the variable */
};

enum el_code_kind { EL_CODE_APP, EL_CODE_DRIVER };

struct el_app {
	uint32_t	 pcr;
	uint32_t	 type;		/* the event's type as logged (unbound: display) */
	int		 kind;		/* enum el_code_kind: which allowlist judges it */
	const uint8_t	*digest;	/* Authenticode digest in the requested bank */
	struct cur	 devpath;	/* EFI device path, raw */
};

struct el_string {
	uint32_t	 pcr;
	uint32_t	 type;		/* EV_IPL, EV_EFI_ACTION, EV_EVENT_TAG... */
	int		 verified;	/* digest == hash of the bytes */
	char		*s;		/* UTF-8, NUL-terminated, owned */
};

struct el_facts {
	uint16_t	 bank;		/* digests below are this bank's */
	int		 secure_boot;	/* -1 not measured, 0 off, 1 on */
	struct el_var	 sb, pk, kek, db, dbx, mok, moklistx;
	size_t		 napps;
	struct el_app	 app[EL_MAX_ITEMS];
	size_t		 ncmdline;	/* kernel command lines found (EV_IPL etc.) */
	struct el_string cmdline[16];
	size_t		 nstrings;	/* every EV_IPL / EV_EFI_ACTION / tag string */
	struct el_string str[EL_MAX_ITEMS];
	size_t		 ntypes;	/* distinct event types seen (labels: unbound) */
	uint32_t	 types[64];
	size_t		 ntypes_dropped;
	int		 has_debugger;	/* an EV_EFI_ACTION naming a debug mode */
	/* additions */
	size_t		 nstrings_dropped;	/* strings beyond str[] */
	/*
	 * Linux EFI stub tagged events (EV_EVENT_TAG, PCR 9): id 0x8F3B22ED
	 * LOADED_IMAGE::LoadOptions (digest of the UTF-16 command line, which
	 * the log does not carry; see eventlog_loadopts_match) and 0x8F3B22EC
	 * Linux initrd. digest points into the log, in the facts' bank.
	 */
	size_t		 ntags;
	struct el_tag {
		uint32_t	 pcr;
		uint32_t	 id;
		size_t		 seq;		/* the event's index in the log */
		const uint8_t	*digest;
	} tag[8];
	size_t		 ntags_dropped;	/* tags beyond tag[]: judged as not allowed */
	size_t		 nunbound;	/* events that count for nothing (bind.h) */
	/*
	 * Bound events in PCR 8 (GRUB's and systemd-boot's string PCR) whose
	 * data is not what their digest hashes: a command line could hide
	 * behind any of them. The first one's event index.
	 */
	size_t		 nunjudged_cmd;
	size_t		 unjudged_seq;
	int		 pcr7_separated;	/* PCR 7's separator was seen */
	/* the log and bound mask the facts came from (for digest rules) */
	const struct eventlog *el;
	uint32_t	 bound;
};

/*
 * Whether a bound event's digest in the facts' bank is the hash of s
 * (without its NUL): judged by what was extended, whatever the event's
 * type or data say. 1 yes (*seq = its index), 0 no.
 */
int	eventlog_bound_digest_of(const struct el_facts *f, const char *s, size_t *seq);

/*
 * Decode what a policy needs, digests in bank, from the events that count
 * under the binding rule (bind_eventlog_event with the mask of PCRs the
 * quote bound; offline tools pass BIND_ALL_PCRS). Strings are copied.
 */
int	eventlog_facts(const struct eventlog *el, uint16_t bank, uint32_t bound,
	    struct el_facts *out);
void	eventlog_facts_free(struct el_facts *f);
/* Whether an event of type occurred (for required/forbidden events). */
int	el_saw(const struct el_facts *f, uint32_t type);

#define EL_TAG_LOAD_OPTIONS	0x8f3b22edu
#define EL_TAG_INITRD		0x8f3b22ecu

/*
 * Does a LOADED_IMAGE::LoadOptions tag of the Linux EFI stub match this
 * command line (UTF-8, converted to UTF-16LE with and without the
 * terminating NUL, as firmware passes it)? 1 yes, 0 no or no such tag.
 */
int	eventlog_loadopts_match(const struct el_facts *f, const char *cmdline);
/* The same for tag i alone; 0 when it is no LoadOptions tag. */
int	eventlog_tag_is_cmdline(const struct el_facts *f, size_t i, const char *cmdline);

/*
 * Walk the EFI_SIGNATURE_LISTs in a variable's data (PK, KEK, db, dbx):
 * cb gets each entry's signature type GUID, owner GUID and signature data
 * (an X.509 DER certificate or a hash). Malformed lists: ASSAY_ERR_FORMAT.
 */
int	efi_siglist_foreach(const struct cur *data,
	    int (*cb)(const uint8_t type[16], const uint8_t owner[16],
	    const struct cur *sig, void *arg), void *arg);

/* ---- EFI helpers (eventlog_efi.c), additions ---- */

extern const uint8_t	EFI_GLOBAL_VARIABLE_GUID[16];	/* 8be4df61-93ca-11d2-aa0d-00e098032b8c */
extern const uint8_t	EFI_IMAGE_SECURITY_DATABASE_GUID[16]; /* d719b2cb-3d3a-4596-a3bc-dad00e67656f */
extern const uint8_t	EFI_SHIM_LOCK_GUID[16];		/* 605dab50-e046-4300-abb6-3dd810dd8b23 */
extern const uint8_t	EFI_CERT_X509_GUID[16];		/* a5c059a1-94e4-4aa7-87b5-ab155c2bf072 */
extern const uint8_t	EFI_CERT_SHA256_GUID[16];	/* c1c41626-504c-4092-aca9-41f936934328 */

#define EFI_GUID_STRLEN	37	/* "8be4df61-93ca-11d2-aa0d-00e098032b8c" + NUL */
/* Lowercase text form of an EFI_GUID as stored (first three fields LE). */
void	efi_guid_format(const uint8_t g[16], char out[EFI_GUID_STRLEN]);
/* The text form back to bytes; ASSAY_ERR_FORMAT if malformed. */
int	efi_guid_parse(const char *s, uint8_t g[16]);

/* UTF-16LE to UTF-8 up to the first NUL; bad surrogates become U+FFFD. */
char	*efi_utf16_to_utf8(const struct cur *s);

/*
 * Event data as a printable UTF-8 string, owned by the caller: UTF-16LE
 * when it looks so, else bytes up to the first NUL with control
 * characters as '?'; cut at 4096 characters.
 */
char	*eventlog_string_decode(const struct cur *d);

/* UEFI_VARIABLE_DATA (PFP 10.4.4): name is UTF-16LE, not NUL-terminated. */
struct efi_var {
	uint8_t		 guid[16];
	struct cur	 name;
	struct cur	 data;
};
/* Parse the whole event data; trailing bytes are ASSAY_ERR_FORMAT. */
int	efi_var_parse(const struct cur *ev, struct efi_var *out);
/* Whether the variable's name is the ASCII string name. */
int	efi_var_name_is(const struct efi_var *v, const char *name);

/*
 * UEFI_IMAGE_LOAD_EVENT: three UINTN (uintn_size 1: 4 bytes, 2: 8 bytes),
 * a UINTN device path length, the device path (kept raw).
 */
int	efi_image_load_parse(const struct cur *ev, uint8_t uintn_size,
	    uint64_t *image_len, struct cur *devpath);

/*
 * The first file-path node (media type 4, subtype 4, UTF-16LE) of an EFI
 * device path as printable ASCII (others as '?'), at most outlen - 1
 * characters; "" when there is none or the path is malformed.
 */
void	efi_devpath_file(const struct cur *dp, char *out, size_t outlen);

#endif
