#!/bin/sh
# test/cross/criterion-rt.sh ARCH DIR - Criterion's run-time libraries for
# a foreign Debian architecture (i386, arm64), unpacked under DIR.
#
# libcriterion-dev:ARCH cannot be installed next to the native one here
# (Multi-Arch "same" needs the same version of libgit2 and others on both
# architectures, which the archive does not always have), and adding a
# foreign architecture to dpkg can break every later `apt-get update`.
# So the .debs are fetched with apt-get into a private apt state (lists
# and cache under DIR; the system's apt and dpkg are not touched), and
# unpacked with dpkg-deb.  The headers are the native libcriterion-dev's
# (architecture-independent).  Idempotent: does nothing if DIR/.done
# exists.
arch=$1
dir=$2
[ -n "$arch" ] && [ -n "$dir" ] || {
	echo "usage: $0 ARCH DIR" >&2
	exit 2
}
[ -f "$dir/.done" ] && exit 0
set -e
mkdir -p "$dir/apt/lists/partial" "$dir/apt/cache/archives/partial" \
    "$dir/debs" "$dir/root"
dir=$(cd "$dir" && pwd)
opts="-o APT::Architectures::=$(dpkg --print-architecture)
 -o APT::Architectures::=$arch -o Dir::State::Lists=$dir/apt/lists
 -o Dir::Cache=$dir/apt/cache -o Debug::NoLocking=1"
# Some mirrors of a suite may lag for one architecture: a partial update
# is fine as long as the packages below are found.
# shellcheck disable=SC2086
apt-get $opts -qq update >"$dir/apt/update.log" 2>&1 || true
# The run-time closure of libcriterion3, less what the toolchain's
# sysroot already has (libc6, libgcc-s1).
pkgs="libcriterion3 libnanomsg5 libffi8 libgit2-1.5 libhttp-parser2.9
 libmbedcrypto7 libmbedtls14 libmbedx509-1 libpcre2-8-0 libssh2-1 libssl3
 zlib1g libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0
 libcom-err2 libkeyutils1"
list=""
for p in $pkgs; do list="$list $p:$arch"; done
# shellcheck disable=SC2086
(cd "$dir/debs" && apt-get $opts -qq download $list 2>&1 |
    grep -v 'unsandboxed' || true)
n=0
for d in "$dir"/debs/*.deb; do
	dpkg-deb -x "$d" "$dir/root"
	n=$((n + 1))
done
[ "$n" -ge 18 ] || {
	echo "criterion-rt.sh: only $n of 18 packages for $arch" >&2
	exit 1
}
touch "$dir/.done"
