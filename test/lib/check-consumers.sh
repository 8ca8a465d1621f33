#!/bin/sh
# test/lib/check-consumers.sh - a small consumer (test/lib/consumer/: C and
# C++, #include <percpu/...>) built each way a project takes the toolkit,
# and install/uninstall (issue 14, item 3):
#
#   vendored          the README's recipe: copy the top-level headers and
#                     percpu/, -I that folder
#   pkg-config        make install PREFIX=<tmp>; cc $(pkg-config --cflags
#                     --libs percpu)
#   find_package      cmake -DCMAKE_PREFIX_PATH=<tmp>
#   add_subdirectory  cmake -DPERCPU_SOURCE_DIR=<this tree>
#   DESTDIR           make install DESTDIR=<stage> PREFIX=/usr/local puts
#                     every file under the stage, make uninstall removes
#                     every one of them
# Each consumer must print "consumer <version> ok".
MAKE=${MAKE:-make}
BUILD=${BUILD:-build}
out=$(pwd)/$BUILD/lib/consumers
src=$(pwd)/test/lib/consumer
rm -rf "$out"
mkdir -p "$out" || exit 1
status=0
want="consumer $(sed -n 's/^#define PERCPU_VERSION_MAJOR //p' percpu/config.h).$(sed -n 's/^#define PERCPU_VERSION_MINOR //p' percpu/config.h).$(sed -n 's/^#define PERCPU_VERSION_PATCH //p' percpu/config.h) ok"
run() {
	how=$1
	shift
	if ! "$@" >"$out/$how.log" 2>&1; then
		echo "check-consumers: $how: build failed:"
		tail -n 30 "$out/$how.log"
		status=1
		return 1
	fi
}
verify() {
	got=$("$2" 2>&1)
	if [ "$got" != "$want" ]; then
		echo "check-consumers: $1: \"$got\", want \"$want\""
		status=1
	else
		echo "check-consumers: $1: $got"
	fi
}
WARN="-Wall -Wextra -Werror"

# Vendored: only what the README says to copy.
mkdir -p "$out/vendor" && cp ./*.h "$out/vendor/" && cp -r percpu "$out/vendor/"
run vendored sh -c "gcc -std=c11 $WARN -I'$out/vendor' -c -o '$out/v-main.o' '$src/main.c' &&
	gcc -std=c11 $WARN -I'$out/vendor' -c -o '$out/v-impl.o' '$src/impl.c' &&
	g++ -std=c++17 $WARN -I'$out/vendor' -c -o '$out/v-cxx.o' '$src/cxx.cc' &&
	g++ -o '$out/vendored' '$out/v-main.o' '$out/v-impl.o' '$out/v-cxx.o' -pthread" &&
	verify vendored "$out/vendored"

# pkg-config, from an installed tree.
prefix=$out/prefix
if run install "$MAKE" -s install PREFIX="$prefix"; then
	pc="env PKG_CONFIG_PATH=$prefix/share/pkgconfig pkg-config"
	ver=${want#consumer }
	if [ "$($pc --modversion percpu)" != "${ver% ok}" ]; then
		echo "check-consumers: pkg-config --modversion percpu: $($pc --modversion percpu)"
		status=1
	fi
	run pkg-config sh -c "gcc -std=c11 $WARN \$($pc --cflags percpu) -c -o '$out/p-main.o' '$src/main.c' &&
		gcc -std=c11 $WARN \$($pc --cflags percpu) -c -o '$out/p-impl.o' '$src/impl.c' &&
		g++ -std=c++20 $WARN \$($pc --cflags percpu) -c -o '$out/p-cxx.o' '$src/cxx.cc' &&
		g++ -o '$out/pkgconfig' '$out/p-main.o' '$out/p-impl.o' '$out/p-cxx.o' \$($pc --libs percpu)" &&
		verify pkg-config "$out/pkgconfig"
	run find_package cmake -S "$src" -B "$out/fp" -DCMAKE_PREFIX_PATH="$prefix" \
		-DCMAKE_C_FLAGS="$WARN" -DCMAKE_CXX_FLAGS="$WARN" &&
		run find_package-build cmake --build "$out/fp" &&
		verify find_package "$out/fp/consumer"
	[ -x "$prefix/bin/pcpustat" ] ||
		{ echo "check-consumers: pcpustat not installed"; status=1; }
fi
run add_subdirectory cmake -S "$src" -B "$out/as" -DPERCPU_SOURCE_DIR="$(pwd)" \
	-DCMAKE_C_FLAGS="$WARN" -DCMAKE_CXX_FLAGS="$WARN" &&
	run add_subdirectory-build cmake --build "$out/as" &&
	verify add_subdirectory "$out/as/consumer"

# DESTDIR staging, then uninstall leaves nothing behind.
stage=$out/stage
if run destdir "$MAKE" -s install DESTDIR="$stage" PREFIX=/usr/local; then
	for f in include/percpu/counter.h include/percpu/percpu/core.h \
	    include/percpu/percpu/counter.h share/pkgconfig/percpu.pc \
	    share/cmake/percpu/percpuConfig.cmake \
	    share/cmake/percpu/percpuConfigVersion.cmake bin/pcpustat; do
		[ -e "$stage/usr/local/$f" ] ||
			{ echo "check-consumers: DESTDIR: no $f"; status=1; }
	done
	grep -q '^prefix=/usr/local$' "$stage/usr/local/share/pkgconfig/percpu.pc" ||
		{ echo "check-consumers: percpu.pc does not say prefix=/usr/local"; status=1; }
	run uninstall "$MAKE" -s uninstall DESTDIR="$stage" PREFIX=/usr/local
	left=$(find "$stage" \( -type f -o -type l \) | sed "s|^$stage||")
	if [ -n "$left" ]; then
		echo "check-consumers: uninstall left:"
		echo "$left"
		status=1
	fi
fi
[ $status -eq 0 ] && echo "check-consumers: vendored, pkg-config, find_package, add_subdirectory; install/uninstall with DESTDIR"
exit $status
