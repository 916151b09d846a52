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
attack trusted -- $BASE -c "$GOOD" -e "pcr=1,$HOT" -e "pcr=0xffffffff,action=$DEBUG"

scenario 8b "forbidden action string as an EV_NO_ACTION event: no failure"
attack trusted -- $BASE -c "$GOOD" -e "pcr=1,$HOT" -e "type=EV_NO_ACTION,action=$DEBUG"

scenario 8c "forbidden event type only logged at PCR 0xFFFFFFFF: no failure"
attack trusted -- \
    $BASE -c "$GOOD" -e "pcr=1,$HOT" -e "pcr=0xffffffff,type=EV_ACTION,data=debug shell"

scenario 8d "forbidden action really measured (PCR 5): the rule is on"
attack untrusted eventlog.event "$DEBUG" -- \
    $BASE -c "$GOOD" -e "pcr=1,$HOT" -e "action=$DEBUG"

scenario 8e "forbidden event type really measured (PCR 5): the rule is on"
attack untrusted eventlog.event "EV_ACTION" -- \
    $BASE -c "$GOOD" -e "pcr=1,$HOT" -e "pcr=5,type=EV_ACTION,data=debug shell"

scenario 8f "required event only as a PCR 0xFFFFFFFF copy"
attack untrusted eventlog.event "EV_EFI_HANDOFF_TABLES" -- \
    $BASE -c "$GOOD" -e "pcr=0xffffffff,$HOT"

scenario 8g "required event only as an EV_NO_ACTION copy"
attack untrusted eventlog.event "EV_EFI_HANDOFF_TABLES" -- \
    $BASE -c "$GOOD" -e "pcr=1,type=EV_NO_ACTION,data=ACPI tables"

scenario 8h "required event only extended into resettable PCR 23"
attack untrusted eventlog.event "EV_EFI_HANDOFF_TABLES" -- \
    $BASE -c "$GOOD" -e "pcr=23,$HOT"

genuine_policy std $BASE -c "$GOOD"

scenario 11 "two events of PCR 7 swapped in the log"
attack untrusted eventlog.replay "PCR 7" -- $BASE -c "$GOOD" -O 7

scenario 11b "an event of PCR 4 written twice in the log"
attack untrusted eventlog.replay "PCR 4" -- $BASE -c "$GOOD" -U 4

scenario 11c "the log cut mid-event"
attack untrusted eventlog.format -- $BASE -c "$GOOD" -C 7

scenario 12 "secure boot off"
attack untrusted eventlog.secureboot -- -s 0 -a shim -a grub -x "$DBX" -c "$GOOD"

scenario 12b "SecureBoot variable logged at PCR 3 (extended at 7)"
attack untrusted "eventlog.replay eventlog.secureboot" -- \
    $BASE -c "$GOOD" -V SecureBoot:3

scenario 12c "secure boot off, its SecureBoot variable logged at PCR 0xFFFFFFFF"
attack untrusted "eventlog.replay eventlog.secureboot" -- \
    -s 0 -a shim -a grub -x "$DBX" -c "$GOOD" -V SecureBoot:0xffffffff

scenario 12d "PK certificate bytes altered in the log (digest intact)"
attack untrusted "eventlog.replay eventlog.pk" -- $BASE -c "$GOOD" -k

scenario 12e "secure boot off, a SecureBoot=1 variable extended into PCR 7 and logged after it"
attack untrusted eventlog.secureboot -- \
    -s 0 -a shim -a grub -x "$DBX" -c "$GOOD" -e "var=SecureBoot:1"

scenario 12f "after boot, a second db holding the attacker's certificate extended into PCR 7 and logged"
late eventlog.db "db" fw -B $BASE -c "$GOOD" -e "var=db:attacker"

scenario 13 "a boot application not in the policy"
attack untrusted eventlog.boot_app 'evil' -- -s 1 -a shim -a evil -x "$DBX" -c "$GOOD"

scenario 13b "the log shows the allowed application, the TPM got another"
attack untrusted eventlog.replay "PCR 4" -- \
    -s 1 -a shim -a evil=grub -x "$DBX" -c "$GOOD"
}

adv_finish
