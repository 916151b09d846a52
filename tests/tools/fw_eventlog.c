/*
 * fw_eventlog.c — a test helper that plays the firmware (and, with the
 * attack options, a root attacker) for an agent's swtpm: it writes a TCG
 * crypto-agile event log (Spec ID Event03, sha1 and sha256 banks) with the
 * events a measured-boot policy looks at, and extends the swtpm's PCRs
 * with the same digests.
 *
 *   fw_eventlog -t TCTI -o LOG [-s 0|1] [-c CMDLINE] [-G] [-a APP[=SHOWN]]...
 *               [-x DBXHEX]... [-T] [-n] [-B] [-e SPEC]... [-D PCR]...
 *               [-O PCR]... [-U PCR]... [-C BYTES] [-V VAR:PCR] [-k]
 *               [-L SPEC]...
 *
 * The genuine boot:
 *   -s  SecureBoot value measured into PCR 7 (default 1)
 *   -c  kernel command line, measured GRUB-style as EV_IPL in PCR 8: data
 *       "kernel_cmdline: CMDLINE\0", digest = hash of all of it (label
 *       and NUL included; real GRUB does not hash them, see -G)
 *   -G  -c is measured the way real GRUB (2.04+) does it: first the
 *       command event "grub_cmd: linux PATH ARGS\0" (digest = hash of
 *       "linux PATH ARGS"), then "kernel_cmdline: CMDLINE\0" (digest =
 *       hash of CMDLINE); both EV_IPL in PCR 8, label and NUL unhashed.
 *       PATH and ARGS come from CMDLINE "BOOT_IMAGE=PATH ARGS" (GRUB
 *       prepends BOOT_IMAGE=PATH); without it PATH is /vmlinuz and ARGS
 *       all of CMDLINE
 *   -a  a boot application named APP (Authenticode digest = H("app:" APP),
 *       device path \EFI\APP.efi); APP=SHOWN extends APP's digest but logs
 *       SHOWN's digest and path (a log rewritten to show an allowed app)
 *   -x  a SHA-256 revocation in dbx
 *   -e  one more event after the standard ones (repeatable, in order):
 *         [pcr=N,][type=T,][mode=both|log|extend,][bank=B,][repeat=R,]KIND=TEXT
 *       N decimal or 0x hex (0xffffffff, 16, 23, 24... allowed); T a TCG
 *       name (EV_IPL, EV_NO_ACTION, EV_EVENT_TAG, EV_EFI_ACTION...) or 0x
 *       hex; mode log = only written to the log, extend = only extended
 *       (a dropped event); events at PCR 24+ and EV_NO_ACTION events are
 *       never extended. bank=sha1 or bank=sha256: the event carries only
 *       that bank's digest and only that bank is extended (the Spec ID
 *       event still announces both). repeat=R queues R identical events.
 *       KIND (default PCR and type in brackets):
 *         loadopts  Linux EFI stub EV_EVENT_TAG 0x8F3B22ED, data "tag id,
 *                   len, LOADED_IMAGE::LoadOptions\0", digest = hash of
 *                   TEXT in UTF-16LE with a terminating NUL   [9, EV_EVENT_TAG]
 *         cmdline   GRUB "kernel_cmdline: TEXT\0"              [8, EV_IPL]
 *                   (digest = hash of all of it, as -c)
 *         grub_cmdline  real GRUB "kernel_cmdline: TEXT\0", digest =
 *                   hash of TEXT only (as -G)             [8, EV_IPL]
 *         grub_cmd  real GRUB "grub_cmd: TEXT\0", digest = hash of TEXT
 *                                                         [8, EV_IPL]
 *         ipl       "TEXT\0" (e.g. shim's MokList)             [14, EV_IPL]
 *         utf16     TEXT in UTF-16LE (systemd load options)    [12, EV_IPL]
 *         action    "TEXT" without NUL                         [5, EV_EFI_ACTION]
 *         var       NAME:VALUE, a UEFI_VARIABLE_DATA: SecureBoot:0|1, or
 *                   PK/KEK/db/dbx holding one stand-in certificate "assay
 *                   test VALUE certificate"       [7, EV_EFI_VARIABLE_DRIVER_CONFIG]
 *         data      "TEXT" without NUL                         [0, EV_POST_CODE]
 *       every other digest is the bank hash of the event data.
 *
 * Attacks on the log (the TPM always gets the genuine extends):
 *   -T  the log carries another sha256 digest for the first application
 *   -n  write the log only, extend nothing
 *   -B  the boot happened already: the standard events are logged but not
 *       extended; -e events are extended (an attacker appending events
 *       after boot). The log is written before anything is extended.
 *   -D  drop every event of this (logged) PCR from the log (repeatable)
 *   -O  swap the first two logged events of this PCR in the log
 *   -U  write the first logged event of this PCR twice
 *   -C  cut this many bytes off the end of the log (mid-event)
 *   -V  log the PCR 7 variable VAR (SecureBoot, PK, KEK, db, dbx) at
 *       another PCR (still extended at 7)
 *   -k  the PK certificate bytes in the log are altered; its digests
 *       (logged and extended) are those of the genuine PK
 *   -L  relabel one queued event (standard or -e) in the log only: what
 *       is extended and the logged digests stay (repeatable, in order):
 *         pcr=N[,nth=K][,type=T][,unlabel][,flip=OFF][,nul][,data=TEXT]
 *       the K-th event (default 1; negative counts from the end: -1 is
 *       the last) logged at PCR N, counting standard and -e events in
 *       the order they are queued (PCR 7: SecureBoot, PK, KEK, db, dbx,
 *       separator, then -e events; PCR 4: separator, then the -a apps;
 *       PCR 8: the -c event(s), -G's grub_cmd first). Edits, applied in
 *       this order: data=TEXT replaces the data with TEXT, no NUL (must
 *       come last); unlabel keeps only what follows the first ": " of
 *       the data, without a trailing NUL (a GRUB string becomes its hashed
 *       text); nul appends a NUL; flip=OFF XORs data byte OFF with 0x01;
 *       type=T writes type T (T as for -e).
 * The log is written to LOG.tmp and renamed, so a reader never sees half.
 *
 * This file: the options, the genuine boot's sequence of events and the
 * extends; the modules are listed in fw_eventlog.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/tpm.h"
#include "common/buf.h"
#include "common/encode.h"
#include "common/err.h"
#include "common/evidence/eventlog.h"
#include "common/evidence/tpm2.h"
#include "common/xmalloc.h"
#include "tests/tools/fw_eventlog.h"

static struct tpm_cfg tpm;
static int no_extend, base_logonly;

/* The TPM: after the log, so that a reader never sees an extend the
 * log it can fetch does not explain yet (post-boot appends). */
static void
extend_all(void)
{
	for (size_t i = 0; i < nevs; i++) {
		const uint8_t *ext[NBANKS];
		uint16_t algs[NBANKS];
		size_t nb = 0;

		for (int b = 0; b < NBANKS; b++)
			if ((evs[i].banks >> b) & 1u) {
				algs[nb] = banks[b];
				ext[nb++] = evs[i].ext[b];
			}
		if (evs[i].do_ext &&
		    tpm_pcr_extend(&tpm, evs[i].pcr, algs, ext, nb) != 0)
			die("extend");
	}
}

int
main(int argc, char **argv)
{
	const char *path = NULL, *cmdline = NULL, *apps[16], *extras[MAXLIST];
	const char *relabels[MAXLIST];
	size_t nrelabels = 0;
	int grub = 0;
	struct fw_logedits ed;
	size_t nextras = 0;
	uint8_t *dbx[16], sb = 1;
	static const uint8_t sep[4];
	size_t napps = 0, ndbx = 0, n;
	struct buf v;
	char *colon;
	int ch;

	memset(&ed, 0, sizeof(ed));

	while ((ch = getopt(argc, argv, "t:o:s:c:Ga:x:TnBe:D:O:U:C:V:kL:")) != -1) {
		switch (ch) {
		case 't': tpm.tcti = optarg; break;
		case 'o': path = optarg; break;
		case 's': sb = (uint8_t)(strcmp(optarg, "0") != 0); break;
		case 'c': cmdline = optarg; break;
		case 'G': grub = 1; break;
		case 'L':
			if (nrelabels == MAXLIST)
				dief("too many", "-L");
			relabels[nrelabels++] = optarg;
			break;
		case 'a':
			if (napps < 16)
				apps[napps++] = optarg;
			break;
		case 'x':
			if (ndbx == 16)
				dief("too many", "-x");
			if (hex_decode_alloc(optarg, 32, &dbx[ndbx], &n) != 0 ||
			    n != 32)
				die("-x wants 64 hex digits");
			ndbx++;
			break;
		case 'T': tamper = 1; break;
		case 'n': no_extend = 1; break;
		case 'B': base_logonly = 1; break;
		case 'e':
			if (nextras == MAXLIST)
				dief("too many", "-e");
			extras[nextras++] = optarg;
			break;
		case 'D':
			if (ed.ndrop == MAXLIST)
				dief("too many", "-D");
			ed.drop[ed.ndrop++] = parse_u32(optarg, "-D wants a PCR");
			break;
		case 'O':
			if (ed.nswap == MAXLIST)
				dief("too many", "-O");
			ed.swap[ed.nswap++] = parse_u32(optarg, "-O wants a PCR");
			break;
		case 'U':
			if (ed.ndup == MAXLIST)
				dief("too many", "-U");
			ed.dup[ed.ndup++] = parse_u32(optarg, "-U wants a PCR");
			break;
		case 'C': ed.cut = parse_u32(optarg, "-C wants a byte count"); break;
		case 'V':
			if ((colon = strchr(optarg, ':')) == NULL)
				dief("-V wants VAR:PCR", optarg);
			moved_var = xstrndup(optarg, (size_t)(colon - optarg));
			moved_pcr = parse_u32(colon + 1, "-V wants VAR:PCR");
			break;
		case 'k': tamper_pk = 1; break;
		default: goto usage;
		}
	}
	if (path == NULL || optind != argc || (tpm.tcti == NULL && !no_extend))
		goto usage;
	setenv("TSS2_LOG", "all+NONE", 0);
	tpm.ak_alg = TPM2_ALG_ECC;

	/* The standard boot. */
	cur_mode = base_logonly ? M_LOG : M_BOTH;
	buf_init(&v);
	utf16(&v, "1.0");
	event(0, EV_S_CRTM_VERSION, v.d, v.len);
	buf_free(&v);
	event(0, EV_POST_CODE, (const uint8_t *)"assay test firmware", 19);
	variable(efi_global, "SecureBoot", &sb, 1);
	key_db(efi_global, "PK");
	key_db(efi_global, "KEK");
	key_db(efi_secdb, "db");
	buf_init(&v);
	if (ndbx > 0)
		siglist(&v, cert_sha256, (const uint8_t *const *)dbx, ndbx, 32);
	variable(efi_secdb, "dbx", v.d, v.len);
	buf_free(&v);
	for (uint32_t pcr = 0; pcr < 8; pcr++)
		event(pcr, EV_SEPARATOR, sep, sizeof(sep));
	event(5, EV_EFI_ACTION, (const uint8_t *)"Exit Boot Services Invocation", 29);
	for (size_t i = 0; i < napps; i++)
		app(apps[i]);
	if (cmdline != NULL && grub)
		grub_real(cmdline);
	else if (cmdline != NULL) {
		char *s = xasprintf("kernel_cmdline: %s", cmdline);

		event(8, EV_IPL, (const uint8_t *)s, strlen(s) + 1);
		free(s);
	}
	cur_mode = M_BOTH;
	/* What comes after it (or what the attacker appends). */
	for (size_t i = 0; i < nextras; i++)
		extra_event(extras[i]);
	/* The attacker relabels events in the log. */
	for (size_t i = 0; i < nrelabels; i++)
		relabel(relabels[i]);

	if (fw_write_log(path, &ed) != 0)
		return 1;
	if (!no_extend)
		extend_all();
	for (size_t i = 0; i < nevs; i++)
		free(evs[i].data);
	free(evs);
	for (size_t i = 0; i < ndbx; i++)
		free(dbx[i]);
	return 0;
 usage:
	fprintf(stderr, "usage: fw_eventlog -t TCTI -o LOG [-s 0|1] [-c CMDLINE] "
	    "[-G] [-a APP[=SHOWN]]... [-x DBXHEX]... [-T] [-n] [-B]\n"
	    "                   [-e [pcr=N,][type=T,][mode=both|log|extend,]"
	    "[bank=B,][repeat=R,]KIND=TEXT]...\n"
	    "                   [-D PCR]... [-O PCR]... [-U PCR]... [-C BYTES] "
	    "[-V VAR:PCR] [-k]\n"
	    "                   [-L pcr=N[,nth=K][,type=T][,unlabel][,flip=OFF]"
	    "[,nul][,data=TEXT]]...\n");
	return 2;
}
