#!/bin/sh
# Adversarial measured boot, part 4: relabelled events. Only an event's
# PCR index and digests are bound by the TPM; its type and any data its
# digest does not hash are the attacker's to rewrite. A boot application
# not in the policy relabelled as a POST code or an EFI action; the real
# SecureBoot=0 (or PK) variable relabelled or altered so it no longer
# parses, a SecureBoot=1 (or forged PK) event extended and logged after
# it; real GRUB command-line events (label and NUL unhashed) with the
# label stripped, changed or the data replaced, an allowed line appended;
# the forbidden "UEFI Debug Mode" action with a byte flipped, relabelled
# or replaced; a required event present only with a SHA-1 digest; 300
# SHA-1-only events before a genuine forbidden action.
# See docs/adversarial-boot.md.
. "$(dirname "$0")/../lib/adv_boot.sh"

BASE="-s 1 -a shim -a grub -x $DBX"
NOSB="-s 0 -a shim -a grub -x $DBX"
DEBUG="UEFI Debug Mode"
# A genuine H-CRTM event (both banks), and the attacker's SHA-1-only copy.
HCRTM="pcr=0,type=EV_EFI_HCRTM_EVENT,data=HCRTM"
HCRTM1="pcr=0,type=EV_EFI_HCRTM_EVENT,bank=sha1,data=HCRTM"
# The generated policy: boot_apps shim and grub, secure_boot: required,
# pk/kek/db, the allowed command line, forbid_actions ["UEFI Debug Mode"].
# shellcheck disable=SC2086
adv_genuine std $BASE -c "$GOOD"

# shellcheck disable=SC2086
{
# ---- 1: a boot application not in boot_apps, relabelled in the log.
# PCR 4 events: the separator, shim, then the application (-1: the last).
scenario 14 "boot application not allowed, relabelled EV_POST_CODE (digest intact)"
attack untrusted eventlog.boot_app "PCR 4" -- \
    -s 1 -a shim -a evil -x "$DBX" -c "$GOOD" -L "pcr=4,nth=-1,type=EV_POST_CODE"

scenario 14b "boot application not allowed, relabelled EV_EFI_ACTION 'Calling EFI Application from Boot Option'"
attack untrusted eventlog.boot_app "PCR 4" -- \
    -s 1 -a shim -a evil -x "$DBX" -c "$GOOD" \
        -L "pcr=4,nth=-1,type=EV_EFI_ACTION,data=Calling EFI Application from Boot Option"

scenario 14c "boot application not allowed, relabelled EV_EFI_BOOT_SERVICES_DRIVER"
attack untrusted eventlog.boot_app 'evil' -- \
    -s 1 -a shim -a evil -x "$DBX" -c "$GOOD" \
        -L "pcr=4,nth=-1,type=EV_EFI_BOOT_SERVICES_DRIVER"

# ---- 2: secure boot off, the real SecureBoot=0 event hidden.
# PCR 7 events: SecureBoot, PK, KEK, db, dbx, separator, then -e events.
scenario 15 "secure boot off, SecureBoot=0 relabelled EV_EFI_VARIABLE_BOOT, SecureBoot=1 extended and logged after it"
attack untrusted eventlog.secureboot -- \
    $NOSB -c "$GOOD" -L "pcr=7,nth=1,type=EV_EFI_VARIABLE_BOOT" -e "var=SecureBoot:1"

scenario 15b "secure boot off, SecureBoot=0 relabelled EV_EFI_VARIABLE_AUTHORITY, SecureBoot=1 extended and logged after it"
attack untrusted eventlog.secureboot -- \
    $NOSB -c "$GOOD" -L "pcr=7,nth=1,type=EV_EFI_VARIABLE_AUTHORITY" \
        -e "var=SecureBoot:1"

# Byte 32 of a UEFI_VARIABLE_DATA is the name's first letter ('S' -> 'R').
scenario 15c "secure boot off, SecureBoot=0 relabelled and its name altered (no longer SecureBoot), SecureBoot=1 appended"
attack untrusted eventlog.secureboot -- \
    $NOSB -c "$GOOD" -L "pcr=7,nth=1,type=EV_EFI_VARIABLE_BOOT,flip=32" \
        -e "var=SecureBoot:1"

scenario 15d "secure boot off, SecureBoot=0 data replaced (does not parse), SecureBoot=1 appended"
attack untrusted eventlog.secureboot -- \
    $NOSB -c "$GOOD" -L "pcr=7,nth=1,data=nothing to see" -e "var=SecureBoot:1"

# ---- 3: a forged PK after the separator.
scenario 16 "after boot, a PK holding the attacker's certificate extended into PCR 7 and logged"
late eventlog.pk "PK" fw -B $BASE -c "$GOOD" -e "var=PK:attacker"

scenario 16b "real PK relabelled EV_EFI_VARIABLE_AUTHORITY, the attacker's PK extended and logged after the separator"
attack untrusted eventlog.pk "PK" -- \
    $BASE -c "$GOOD" -L "pcr=7,nth=2,type=EV_EFI_VARIABLE_AUTHORITY" \
        -e "var=PK:attacker"

scenario 16c "real PK's name altered (no longer PK), the attacker's PK extended and logged after the separator"
attack untrusted eventlog.pk "PK" -- \
    $BASE -c "$GOOD" -L "pcr=7,nth=2,flip=32" -e "var=PK:attacker"

# ---- 4: GRUB command lines. PCR 8 events: the -c event(s), then -e ones.
scenario 17 "forbidden kernel_cmdline relabelled EV_POST_CODE with other data (no longer verifies), allowed line appended"
attack untrusted eventlog.cmdline "PCR 8" -- \
    $BASE -c "$BAD" -L "pcr=8,nth=1,type=EV_POST_CODE,data=assay test firmware" \
        -e "cmdline=$GOOD"

# Real GRUB (-G): "grub_cmd: linux ..." (1) then "kernel_cmdline: ..." (2),
# label and NUL not hashed, so the label can be stripped or changed.
genuine_policy grub $BASE -c "$GOOD" -G

scenario 17b "real GRUB: forbidden line's labels stripped (still verify), allowed kernel_cmdline extended and logged after boot"
attack untrusted eventlog.cmdline "init=/bin/sh" -- \
    $BASE -c "$BAD" -G -L "pcr=8,nth=1,unlabel" -L "pcr=8,nth=2,unlabel" \
        -e "grub_cmdline=$GOOD"

scenario 17c "real GRUB: forbidden kernel_cmdline relabelled 'grub_cmd: ', its linux command unlabelled, allowed line appended"
attack untrusted eventlog.cmdline "init=/bin/sh" -- \
    $BASE -c "$BAD" -G -L "pcr=8,nth=1,unlabel" \
        -L "pcr=8,nth=2,nul,data=grub_cmd: $BAD" -e "grub_cmdline=$GOOD"

scenario 17d "real GRUB: forbidden kernel_cmdline relabelled 'grub_cmd: ', allowed line appended"
attack untrusted eventlog.cmdline "init=/bin/sh" -- \
    $BASE -c "$BAD" -G -L "pcr=8,nth=2,nul,data=grub_cmd: $BAD" -e "grub_cmdline=$GOOD"

scenario 17e "real GRUB: both forbidden events relabelled EV_POST_CODE with other data (no longer verify), allowed line appended"
attack untrusted eventlog.cmdline "PCR 8" -- \
    $BASE -c "$BAD" -G -L "pcr=8,nth=1,type=EV_POST_CODE,data=assay test firmware" \
        -L "pcr=8,nth=2,type=EV_POST_CODE,data=assay test firmware" \
        -e "grub_cmdline=$GOOD"

# ---- 5: the forbidden action "UEFI Debug Mode", really extended.
genuine_policy std $BASE -c "$GOOD"

scenario 18 "UEFI Debug Mode extended into PCR 7, one byte of its logged data flipped"
attack untrusted eventlog.event "$DEBUG" -- \
    $BASE -c "$GOOD" -e "pcr=7,action=$DEBUG" -L "pcr=7,nth=-1,flip=0"

scenario 18b "UEFI Debug Mode extended into PCR 1, relabelled EV_POST_CODE"
attack untrusted eventlog.event "$DEBUG" -- \
    $BASE -c "$GOOD" -e "pcr=1,action=$DEBUG" -L "pcr=1,nth=-1,type=EV_POST_CODE"

scenario 18c "UEFI Debug Mode extended into PCR 5, logged as 'Exit Boot Services Invocation'"
attack untrusted eventlog.event "$DEBUG" -- \
    $BASE -c "$GOOD" -e "action=$DEBUG" \
        -L "pcr=5,nth=-1,data=Exit Boot Services Invocation"

# ---- 6: events carrying only a SHA-1 digest (the policy's bank is sha256).
policy_set require_events "[EV_SEPARATOR, EV_EFI_HCRTM_EVENT]"
genuine_policy hcrtm $BASE -c "$GOOD" -e "$HCRTM"

scenario 19 "required EV_EFI_HCRTM_EVENT only as a SHA-1-only event extended into the sha1 bank"
attack untrusted eventlog.event "EV_EFI_HCRTM_EVENT" -- $BASE -c "$GOOD" -e "$HCRTM1"

scenario 19b "required EV_EFI_HCRTM_EVENT only as a SHA-1-only event, extended nowhere"
attack untrusted eventlog.event "EV_EFI_HCRTM_EVENT" -- \
    $BASE -c "$GOOD" -e "mode=log,$HCRTM1"

scenario 19c "300 SHA-1-only EV_EFI_ACTION events, then a genuine UEFI Debug Mode"
attack untrusted eventlog.event "$DEBUG" -- \
    $BASE -c "$GOOD" -e "$HCRTM" -e "bank=sha1,repeat=300,action=Nothing to see here" \
        -e "action=$DEBUG"
}

adv_finish
