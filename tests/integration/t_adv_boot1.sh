#!/bin/sh
# Adversarial measured boot, part 1: the kernel command line. The genuine
# boot measured a forbidden command line (init=/bin/sh) and a root
# attacker tries to make the verifier believe an allowed one: a Linux EFI
# stub LoadOptions tag whose digest matches the allowed line, placed where
# it is never replayed (PCR 0xFFFFFFFF, PCR 24, an EV_NO_ACTION event),
# at a resettable PCR it extends itself (16, 23), at PCR 20 (locality 0
# cannot extend it) or at PCR 9 next to the forbidden line; a second,
# forbidden GRUB line next to the allowed one; a forbidden line extended
# and logged after boot. See docs/adversarial-boot.md.
. "$(dirname "$0")/../lib/adv_boot.sh"

BASE="-s 1 -a shim -a grub -x $DBX"
# shellcheck disable=SC2086
adv_genuine cmd $BASE -c "$GOOD"

# shellcheck disable=SC2086
{
scenario 1 "forbidden line in PCR 8, allowed LoadOptions tag at PCR 0xFFFFFFFF"
# control: an EFI stub boot, the allowed line only as a PCR 9 tag, is trusted
control $BASE -e "loadopts=$GOOD" &&
    boot $BASE -c "$BAD" -e "pcr=0xffffffff,loadopts=$GOOD" &&
    expect_boot untrusted eventlog.cmdline "init=/bin/sh" && good

scenario 1b "forbidden line in PCR 8, allowed LoadOptions tag extended into PCR 9"
attack untrusted eventlog.cmdline "init=/bin/sh" -- $BASE -c "$BAD" -e "loadopts=$GOOD"

scenario 3 "forbidden line in PCR 8, allowed LoadOptions tag as EV_NO_ACTION"
attack untrusted eventlog.cmdline "init=/bin/sh" -- \
    $BASE -c "$BAD" -e "type=EV_NO_ACTION,loadopts=$GOOD"

scenario 4 "two lines in PCR 8: allowed, then forbidden"
attack untrusted eventlog.cmdline "init=/bin/sh" -- $BASE -c "$GOOD" -e "cmdline=$BAD"

scenario 4b "two lines in PCR 8: forbidden, then allowed"
attack untrusted eventlog.cmdline "init=/bin/sh" -- $BASE -c "$BAD" -e "cmdline=$GOOD"

scenario 5 "forbidden line extended into PCR 8 and logged after boot"
late eventlog.cmdline "init=/bin/sh" fw -B $BASE -c "$GOOD" -e "cmdline=$BAD"

# Last: the verifier learns to quote PCRs 16, 20 and 23 from these logs.
scenario 2a "forbidden line in PCR 8, allowed LoadOptions tag at PCR 24"
attack untrusted eventlog.cmdline "init=/bin/sh" -- \
    $BASE -c "$BAD" -e "pcr=24,loadopts=$GOOD"

scenario 2b "forbidden line in PCR 8, allowed LoadOptions tag extended into resettable PCR 23"
attack untrusted eventlog.cmdline "init=/bin/sh" -- \
    $BASE -c "$BAD" -e "pcr=23,loadopts=$GOOD"

scenario 2c "forbidden line in PCR 8, allowed LoadOptions tag extended into resettable PCR 16"
attack untrusted eventlog.cmdline "init=/bin/sh" -- \
    $BASE -c "$BAD" -e "pcr=16,loadopts=$GOOD"

scenario 2d "forbidden line in PCR 8, allowed LoadOptions tag logged at PCR 20 (not extendable)"
attack untrusted "eventlog.cmdline eventlog.replay" -- \
    $BASE -c "$BAD" -e "mode=log,pcr=20,loadopts=$GOOD"
}

adv_finish
