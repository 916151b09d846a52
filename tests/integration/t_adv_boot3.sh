#!/bin/sh
# Adversarial measured boot, part 3: events a policy requires or forbids
# placed where they are never measured (PCR 0xFFFFFFFF, EV_NO_ACTION,
# resettable PCR 23); a log reordered, duplicated or truncated; secure
# boot off or its variable moved, a SecureBoot or db variable measured a
# second time; PK bytes altered; a boot application
# not in the policy, shown in the log as the allowed one.
# See docs/adversarial-boot.md.
. "$(dirname "$0")/../lib/adv_boot.sh"

BASE="-s 1 -a shim -a grub -x $DBX"
HOT="type=EV_EFI_HANDOFF_TABLES,data=ACPI tables"
DEBUG="UEFI Debug Mode"
# shellcheck disable=SC2086
adv_setup $BASE -c "$GOOD" -e "pcr=1,$HOT"

# shellcheck disable=SC2086
{
# forbid_actions: ["UEFI Debug Mode"] comes with the generated policy.
policy_set require_events "[EV_SEPARATOR, EV_EFI_HANDOFF_TABLES]"
policy_set forbid_events "[EV_ACTION]"
genuine_policy ev $BASE -c "$GOOD" -e "pcr=1,$HOT"

scenario 8 "forbidden action only logged at PCR 0xFFFFFFFF (never measured): no failure"
control $BASE -c "$GOOD" -e "pcr=1,$HOT" &&
    boot $BASE -c "$GOOD" -e "pcr=1,$HOT" -e "pcr=0xffffffff,action=$DEBUG" &&
    expect_boot trusted && good

scenario 8b "forbidden action string as an EV_NO_ACTION event: no failure"
control $BASE -c "$GOOD" -e "pcr=1,$HOT" &&
    boot $BASE -c "$GOOD" -e "pcr=1,$HOT" -e "type=EV_NO_ACTION,action=$DEBUG" &&
    expect_boot trusted && good

scenario 8c "forbidden event type only logged at PCR 0xFFFFFFFF: no failure"
control $BASE -c "$GOOD" -e "pcr=1,$HOT" &&
    boot $BASE -c "$GOOD" -e "pcr=1,$HOT" -e "pcr=0xffffffff,type=EV_ACTION,data=debug shell" &&
    expect_boot trusted && good

scenario 8d "forbidden action really measured (PCR 5): the rule is on"
control $BASE -c "$GOOD" -e "pcr=1,$HOT" &&
    boot $BASE -c "$GOOD" -e "pcr=1,$HOT" -e "action=$DEBUG" &&
    expect_boot untrusted eventlog.event "$DEBUG" && good

scenario 8e "forbidden event type really measured (PCR 5): the rule is on"
control $BASE -c "$GOOD" -e "pcr=1,$HOT" &&
    boot $BASE -c "$GOOD" -e "pcr=1,$HOT" -e "pcr=5,type=EV_ACTION,data=debug shell" &&
    expect_boot untrusted eventlog.event "EV_ACTION" && good

scenario 8f "required event only as a PCR 0xFFFFFFFF copy"
control $BASE -c "$GOOD" -e "pcr=1,$HOT" &&
    boot $BASE -c "$GOOD" -e "pcr=0xffffffff,$HOT" &&
    expect_boot untrusted eventlog.event "EV_EFI_HANDOFF_TABLES" && good

scenario 8g "required event only as an EV_NO_ACTION copy"
control $BASE -c "$GOOD" -e "pcr=1,$HOT" &&
    boot $BASE -c "$GOOD" -e "pcr=1,type=EV_NO_ACTION,data=ACPI tables" &&
    expect_boot untrusted eventlog.event "EV_EFI_HANDOFF_TABLES" && good

scenario 8h "required event only extended into resettable PCR 23"
control $BASE -c "$GOOD" -e "pcr=1,$HOT" &&
    boot $BASE -c "$GOOD" -e "pcr=23,$HOT" &&
    expect_boot untrusted eventlog.event "EV_EFI_HANDOFF_TABLES" && good

genuine_policy std $BASE -c "$GOOD"

scenario 11 "two events of PCR 7 swapped in the log"
control $BASE -c "$GOOD" &&
    boot $BASE -c "$GOOD" -O 7 &&
    expect_boot untrusted eventlog.replay "PCR 7" && good

scenario 11b "an event of PCR 4 written twice in the log"
control $BASE -c "$GOOD" &&
    boot $BASE -c "$GOOD" -U 4 &&
    expect_boot untrusted eventlog.replay "PCR 4" && good

scenario 11c "the log cut mid-event"
control $BASE -c "$GOOD" &&
    boot $BASE -c "$GOOD" -C 7 &&
    expect_boot untrusted eventlog.format && good

scenario 12 "secure boot off"
control $BASE -c "$GOOD" &&
    boot -s 0 -a shim -a grub -x "$DBX" -c "$GOOD" &&
    expect_boot untrusted eventlog.secureboot && good

scenario 12b "SecureBoot variable logged at PCR 3 (extended at 7)"
control $BASE -c "$GOOD" &&
    boot $BASE -c "$GOOD" -V SecureBoot:3 &&
    expect_boot untrusted "eventlog.replay eventlog.secureboot" && good

scenario 12c "secure boot off, its SecureBoot variable logged at PCR 0xFFFFFFFF"
control $BASE -c "$GOOD" &&
    boot -s 0 -a shim -a grub -x "$DBX" -c "$GOOD" -V SecureBoot:0xffffffff &&
    expect_boot untrusted "eventlog.replay eventlog.secureboot" && good

scenario 12d "PK certificate bytes altered in the log (digest intact)"
control $BASE -c "$GOOD" &&
    boot $BASE -c "$GOOD" -k &&
    expect_boot untrusted "eventlog.replay eventlog.pk" && good

scenario 12e "secure boot off, a SecureBoot=1 variable extended into PCR 7 and logged after it"
control $BASE -c "$GOOD" &&
    boot -s 0 -a shim -a grub -x "$DBX" -c "$GOOD" -e "var=SecureBoot:1" &&
    expect_boot untrusted eventlog.secureboot && good

scenario 12f "after boot, a second db holding the attacker's certificate extended into PCR 7 and logged"
control $BASE -c "$GOOD" &&
    fw -B $BASE -c "$GOOD" -e "var=db:attacker" &&
    expect_untrusted 10 eventlog.db "db" && good

scenario 13 "a boot application not in the policy"
control $BASE -c "$GOOD" &&
    boot -s 1 -a shim -a evil -x "$DBX" -c "$GOOD" &&
    expect_boot untrusted eventlog.boot_app 'evil' && good

scenario 13b "the log shows the allowed application, the TPM got another"
control $BASE -c "$GOOD" &&
    boot -s 1 -a shim -a evil=grub -x "$DBX" -c "$GOOD" &&
    expect_boot untrusted eventlog.replay "PCR 4" && good
}

adv_finish
