#!/bin/sh
# test/inspect.sh - run build/inspect/test-inspect (test/inspect_test.c)
# as `make test` does: as root with useradd, first create two
# unprivileged users, an attacker and a victim, whose uids the suite
# "attack" reads from INSP_ATTACKER_UID and INSP_VICTIM_UID; delete them
# (and every segment name of theirs) afterwards.  Otherwise that suite
# skips, and this script says so.
#
#   sh test/inspect.sh TEST_BINARY PCPUSTAT [criterion options]
#
# The users must reach the binaries: both are copied into a fresh 0755
# directory (the worktree may not be theirs to enter).
set -u
bin=$1
tool=$2
shift 2
dir=$(mktemp -d /tmp/pcpu-inspect.XXXXXX) || exit 1
chmod 0755 "$dir"
cp "$bin" "$dir/test-inspect" && cp "$tool" "$dir/pcpustat" || exit 1
atk="pcpa$$"
vic="pcpv$$"
made=""

cleanup() {
	for u in $made; do
		uid=$(id -u "$u" 2>/dev/null) &&
		    rm -f /dev/shm/pcpu."$uid".* /dev/shm/.pcpu."$uid".*
		userdel "$u" >/dev/null 2>&1
	done
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$(id -u)" = 0 ] && command -v useradd >/dev/null 2>&1; then
	for u in "$atk" "$vic"; do
		useradd -r -M -N -d /nonexistent -s /usr/sbin/nologin "$u" ||
		    { echo "inspect.sh: useradd $u failed"; exit 1; }
		made="$made $u"
	done
	INSP_ATTACKER_UID=$(id -u "$atk")
	INSP_VICTIM_UID=$(id -u "$vic")
	export INSP_ATTACKER_UID INSP_VICTIM_UID
	echo "inspect.sh: attacker uid $INSP_ATTACKER_UID, victim uid $INSP_VICTIM_UID"
else
	echo "inspect.sh: attack tests skipped: they need root and useradd (uid $(id -u))"
fi
PCPUSTAT="$dir/pcpustat" "$dir/test-inspect" "$@"
