/*
 * test_eventlog_efi.c — the decoded facts of real event logs (secure boot
 * state, dbx walk, boot applications, command lines, Linux EFI stub tags),
 * the digest rule that keeps tampered data out of facts, GUIDs, UTF-16
 * and the EFI_SIGNATURE_LIST walk on malformed lists.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/evidence/bind.h"
#include "common/evidence/eventlog.h"
#include "common/evidence/tpm2.h"
#include "eventlog_fixture.h"

struct loaded {
	uint8_t		*d;
	size_t		 n;
	struct eventlog	 el;
	struct el_facts	 f;
};

static struct loaded *
load(const char *name, uint16_t bank)
{
	struct loaded *l = xcalloc(1, sizeof(*l));

	l->d = fx_read(name, &l->n);
	ck_assert_int_eq(eventlog_parse(l->d, l->n, &l->el), ASSAY_OK);
	ck_assert_int_eq(eventlog_facts(&l->el, bank, BIND_ALL_PCRS, &l->f), ASSAY_OK);
	return l;
}

static void
unload(struct loaded *l)
{
	eventlog_facts_free(&l->f);
	eventlog_free(&l->el);
	free(l->d);
	free(l);
}

START_TEST(secure_boot_on_in_a_secure_boot_log)
{
	struct loaded *l = load(
	    "keylime/create-mb-policy_binary_bios_measurements-secureboot",
	    TPM2_ALG_SHA256);

	ck_assert_int_eq(l->f.secure_boot, 1);
	ck_assert_int_eq(l->f.sb.verified, 1);
	ck_assert_int_eq(l->f.pk.present && l->f.kek.present && l->f.db.present, 1);
	unload(l);
}
END_TEST

START_TEST(secure_boot_off_in_ovmf_boots)
{
	static const char *boots[] = {
		"qemu-ovmf/boot1.binary_bios_measurements",
		"qemu-ovmf/boot2.binary_bios_measurements",
		"qemu-ovmf/boot3.binary_bios_measurements",
	};
	size_t i;

	for (i = 0; i < 3; i++) {
		struct loaded *l = load(boots[i], TPM2_ALG_SHA256);

		ck_assert_int_eq(l->f.secure_boot, 0);
		ck_assert_int_eq(l->f.sb.verified, 1);
		unload(l);
	}
}
END_TEST

struct walk {
	size_t	n, sha256, x509;
};

static int
count_sig(const uint8_t type[16], const uint8_t owner[16],
    const struct cur *sig, void *arg)
{
	struct walk *w = arg;

	w->n++;
	if (memcmp(type, EFI_CERT_SHA256_GUID, 16) == 0 && sig->len == 32)
		w->sha256++;
	if (memcmp(type, EFI_CERT_X509_GUID, 16) == 0)
		w->x509++;
	return 0;
}

START_TEST(dbx_entries_are_walked)
{
	struct loaded *l = load("go-tpm-tools/ubuntu-2404-amd-sevsnp.bin",
	    TPM2_ALG_SHA256);
	struct walk w = { 0 };

	ck_assert_int_eq(l->f.dbx.present, 1);
	ck_assert_int_eq(l->f.dbx.verified, 1);
	ck_assert_int_eq(efi_siglist_foreach(&l->f.dbx.data, count_sig, &w),
	    ASSAY_OK);
	ck_assert_uint_eq(w.n, 371);
	ck_assert_uint_gt(w.sha256, 300);
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(efi_siglist_foreach(&l->f.db.data, count_sig, &w),
	    ASSAY_OK);
	ck_assert_uint_ge(w.x509, 1);
	unload(l);
}
END_TEST

START_TEST(siglist_walk_refuses_malformed_lists)
{
	uint8_t bad[28 + 48];
	struct cur c;
	struct walk w = { 0 };

	memset(bad, 0, sizeof(bad));
	memcpy(bad, EFI_CERT_SHA256_GUID, 16);
	bad[16] = sizeof(bad) + 1;	/* list size past the data */
	bad[24] = 48;
	cur_init(&c, bad, sizeof(bad));
	ck_assert_int_eq(efi_siglist_foreach(&c, count_sig, &w), ASSAY_ERR_FORMAT);
	bad[16] = sizeof(bad);
	bad[24] = 40;			/* 48 bytes are not n * 40 */
	ck_assert_int_eq(efi_siglist_foreach(&c, count_sig, &w), ASSAY_ERR_FORMAT);
	bad[24] = 48;
	ck_assert_int_eq(efi_siglist_foreach(&c, count_sig, &w), ASSAY_OK);
	ck_assert_uint_eq(w.n, 1);
	cur_init(&c, bad, 20);
	ck_assert_int_eq(efi_siglist_foreach(&c, count_sig, &w), ASSAY_ERR_FORMAT);
}
END_TEST

START_TEST(boot_app_digests_are_the_event_digests)
{
	struct loaded *l = load("qemu-ovmf/boot1.binary_bios_measurements",
	    TPM2_ALG_SHA256);
	size_t i;

	ck_assert_uint_eq(l->f.napps, 1);
	for (i = 0; i < l->el.n; i++)
		if (l->el.ev[i].type == EV_EFI_BOOT_SERVICES_APPLICATION)
			break;
	ck_assert_ptr_eq(l->f.app[0].digest, l->el.ev[i].digest[1].d);
	ck_assert_uint_eq(l->f.app[0].pcr, 4);
	ck_assert_uint_gt(l->f.app[0].devpath.len, 0);
	unload(l);
}
END_TEST

START_TEST(grub_kernel_cmdline_is_found_and_verified)
{
	struct loaded *l = load("keylime/mb_log.bin", TPM2_ALG_SHA256);

	/* GRUB's `linux` command and its kernel_cmdline: the same line twice */
	ck_assert_uint_eq(l->f.ncmdline, 2);
	for (size_t i = 0; i < 2; i++) {
		ck_assert_uint_eq(l->f.cmdline[i].pcr, 8);
		ck_assert_int_eq(l->f.cmdline[i].verified, 1);
		ck_assert_int_eq(strncmp(l->f.cmdline[i].s,
		    "(hd0,gpt2)/vmlinuz-5.14.0-183.el9.x86_64 root=", 46), 0);
	}
	ck_assert_str_eq(l->f.cmdline[0].s, l->f.cmdline[1].s);
	ck_assert_uint_eq(l->f.nunjudged_cmd, 0);
	unload(l);
}
END_TEST

START_TEST(systemd_boot_utf16_cmdline_is_found)
{
	struct loaded *l = load("tpm2-tools/event-sd-boot-fedora37.bin",
	    TPM2_ALG_SHA256);
	size_t i;
	int found = 0;

	for (i = 0; i < l->f.ncmdline; i++)
		if (strstr(l->f.cmdline[i].s, "console=ttyS0") != NULL &&
		    l->f.cmdline[i].verified)
			found = 1;
	ck_assert_int_eq(found, 1);
	unload(l);
}
END_TEST

START_TEST(ovmf_direct_boot_logs_load_options_digest_only)
{
	struct loaded *l = load("qemu-ovmf/boot2.binary_bios_measurements",
	    TPM2_ALG_SHA256);

	/* The Linux EFI stub measures the command line as a tagged digest. */
	ck_assert_uint_eq(l->f.ncmdline, 0);
	ck_assert_uint_eq(l->f.ntags, 2);
	ck_assert_uint_eq(l->f.tag[0].id, EL_TAG_LOAD_OPTIONS);
	ck_assert_uint_eq(l->f.tag[0].pcr, 9);
	ck_assert_ptr_nonnull(l->f.tag[0].digest);
	ck_assert_uint_eq(l->f.tag[1].id, EL_TAG_INITRD);
	ck_assert_int_eq(eventlog_loadopts_match(&l->f, "not the command line"), 0);
	unload(l);
}
END_TEST

START_TEST(tampered_secure_boot_data_is_not_verified)
{
	struct loaded *l = load(
	    "keylime/create-mb-policy_binary_bios_measurements-secureboot",
	    TPM2_ALG_SHA256);
	size_t off;

	ck_assert_int_eq(l->f.secure_boot, 1);
	/* Flip SecureBoot's value byte in the log, leave the digest. */
	off = (size_t)(l->f.sb.data.p - l->d);
	eventlog_facts_free(&l->f);
	eventlog_free(&l->el);
	l->d[off] ^= 1;
	ck_assert_int_eq(eventlog_parse(l->d, l->n, &l->el), ASSAY_OK);
	ck_assert_int_eq(eventlog_facts(&l->el, TPM2_ALG_SHA256, BIND_ALL_PCRS, &l->f), ASSAY_OK);
	ck_assert_int_eq(l->f.sb.present, 1);
	ck_assert_int_eq(l->f.sb.verified, 0);
	ck_assert_int_eq(l->f.secure_boot, -1);
	unload(l);
}
END_TEST

START_TEST(tampered_cmdline_cannot_be_judged)
{
	struct loaded *l = load("keylime/mb_log.bin", TPM2_ALG_SHA256);
	const char *p;
	size_t i;

	for (i = 0; i < l->el.n; i++) {
		p = (const char *)l->el.ev[i].data.p;
		if (l->el.ev[i].type == EV_IPL && l->el.ev[i].data.len > 20 &&
		    strncmp(p, "kernel_cmdline: ", 16) == 0)
			break;
	}
	ck_assert_uint_lt(i, l->el.n);
	l->d[(size_t)(l->el.ev[i].data.p - l->d) + 17] ^= 0x20;
	eventlog_facts_free(&l->f);
	ck_assert_int_eq(eventlog_facts(&l->el, TPM2_ALG_SHA256, BIND_ALL_PCRS, &l->f), ASSAY_OK);
	/* the tampered one is no command line but an unjudgeable PCR 8 event */
	ck_assert_uint_eq(l->f.ncmdline, 1);
	ck_assert_uint_eq(l->f.nunjudged_cmd, 1);
	ck_assert_uint_eq(l->f.unjudged_seq, l->el.ev[i].seq);
	unload(l);
}
END_TEST

START_TEST(facts_refuse_a_bank_the_log_lacks)
{
	struct eventlog el;
	struct el_facts f;
	uint8_t *d;
	size_t n;

	d = fx_read("qemu-ovmf/boot1.binary_bios_measurements", &n);
	ck_assert_int_eq(eventlog_parse(d, n, &el), ASSAY_OK);
	ck_assert_int_eq(eventlog_facts(&el, TPM2_ALG_SHA384, BIND_ALL_PCRS, &f),
	    ASSAY_ERR_NOT_FOUND);
	eventlog_free(&el);
	free(d);
}
END_TEST

START_TEST(shim_moklist_is_present_but_unverifiable)
{
	struct loaded *l = load("keylime/mb_log.bin", TPM2_ALG_SHA256);

	ck_assert_int_eq(l->f.mok.present, 1);
	ck_assert_int_eq(l->f.mok.verified, 0);
	ck_assert_uint_eq(l->f.mok.pcr, 14);
	ck_assert_ptr_nonnull(l->f.mok.digest);
	ck_assert_int_eq(el_saw(&l->f, EV_EFI_BOOT_SERVICES_APPLICATION), 1);
	ck_assert_int_eq(el_saw(&l->f, EV_EFI_HCRTM_EVENT), 0);
	unload(l);
}
END_TEST

START_TEST(guid_text_round_trips)
{
	char s[EFI_GUID_STRLEN];
	uint8_t g[16];

	efi_guid_format(EFI_GLOBAL_VARIABLE_GUID, s);
	ck_assert_str_eq(s, "8be4df61-93ca-11d2-aa0d-00e098032b8c");
	ck_assert_int_eq(efi_guid_parse("D719B2CB-3D3A-4596-A3BC-DAD00E67656F", g),
	    ASSAY_OK);
	ck_assert_mem_eq(g, EFI_IMAGE_SECURITY_DATABASE_GUID, 16);
	ck_assert_int_eq(efi_guid_parse("d719b2cb-3d3a-4596-a3bc-dad00e67656", g),
	    ASSAY_ERR_FORMAT);
	ck_assert_int_eq(efi_guid_parse("d719b2cb+3d3a-4596-a3bc-dad00e67656f", g),
	    ASSAY_ERR_FORMAT);
}
END_TEST

START_TEST(utf16_decodes_surrogates_and_stops_at_nul)
{
	static const uint8_t u[] = { 'S', 0, 0x3d, 0xd8, 0x00, 0xde, 0x00, 0xdc,
	    0, 0, 'x', 0 };
	struct cur c;
	char *s;

	cur_init(&c, u, sizeof(u));
	s = efi_utf16_to_utf8(&c);
	ck_assert_str_eq(s, "S\xf0\x9f\x98\x80\xef\xbf\xbd");
	free(s);
}
END_TEST

START_TEST(devpath_file_names_the_first_file_node)
{
	/* PCI node, then a file node "\\EFI\\x.EFI" (UTF-16LE), then the end. */
	static const uint8_t dp[] = {
	    0x01, 0x01, 0x06, 0x00, 0x00, 0x02,
	    0x04, 0x04, 0x14, 0x00, '\\', 0, 'E', 0, 'F', 0, 'I', 0, '\\', 0,
	    'x', 0, '.', 0, 0xe9, 0, 0, 0,
	    0x7f, 0xff, 0x04, 0x00 };
	static const uint8_t bad[] = { 0x04, 0x04, 0x02, 0x00 };
	struct cur c;
	char out[64], small[4];

	cur_init(&c, dp, sizeof(dp));
	efi_devpath_file(&c, out, sizeof(out));
	ck_assert_str_eq(out, "\\EFI\\x.?");
	efi_devpath_file(&c, small, sizeof(small));
	ck_assert_str_eq(small, "\\EF");
	cur_init(&c, bad, sizeof(bad));	/* node length below 4 */
	efi_devpath_file(&c, out, sizeof(out));
	ck_assert_str_eq(out, "");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("eventlog_efi");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, secure_boot_on_in_a_secure_boot_log);
	tcase_add_test(tc, secure_boot_off_in_ovmf_boots);
	tcase_add_test(tc, dbx_entries_are_walked);
	tcase_add_test(tc, siglist_walk_refuses_malformed_lists);
	tcase_add_test(tc, boot_app_digests_are_the_event_digests);
	tcase_add_test(tc, grub_kernel_cmdline_is_found_and_verified);
	tcase_add_test(tc, systemd_boot_utf16_cmdline_is_found);
	tcase_add_test(tc, ovmf_direct_boot_logs_load_options_digest_only);
	tcase_add_test(tc, tampered_secure_boot_data_is_not_verified);
	tcase_add_test(tc, tampered_cmdline_cannot_be_judged);
	tcase_add_test(tc, facts_refuse_a_bank_the_log_lacks);
	tcase_add_test(tc, shim_moklist_is_present_but_unverifiable);
	tcase_add_test(tc, guid_text_round_trips);
	tcase_add_test(tc, utf16_decodes_surrogates_and_stops_at_nul);
	tcase_add_test(tc, devpath_file_names_the_first_file_node);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
