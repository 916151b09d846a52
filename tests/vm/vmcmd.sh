#!/bin/sh
# vmcmd.sh — /bin/vmcmd in the check-vm guest: one command per connection
# on the forwarded command port. "rogue" executes /rogue.
read -r c || exit 0
case $c in
rogue)	/rogue && echo "ran /rogue" ;;
ping)	echo pong ;;
*)	echo "unknown command" ;;
esac
