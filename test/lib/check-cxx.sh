#!/bin/sh
# test/lib/check-cxx.sh - the headers from C++ (issue 14, item 2).
#
#   1. Every public header alone (C++17), then all of them with <thread>
#      and <atomic> before and after (C++17 and C++20): g++ and clang++, -std=c++17 and c++20,
#      -Wall -Wextra -Werror, MP, SIM and UP; with and without
#      PERCPU_IMPLEMENTATION (the implementation builds as C++).
#   2. C implementation + C++ user, and C++ implementation + C user, link
#      (extern "C") and give exact sums.
CXX_LIST=${CXX_LIST:-g++ clang++}
BUILD=${BUILD:-build}
out=$BUILD/lib/cxx
mkdir -p "$out" || exit 1
status=0
HEADERS=$(ls ./*.h)
for cxx in $CXX_LIST; do
	for std in c++17 c++20; do
		for v in "-DPERCPU_MP=1" "-DPERCPU_MP=1 -DPERCPU_MD=PERCPU_MD_SIM" \
		    "-DPERCPU_MP=0"; do
			f="-std=$std -Wall -Wextra -Werror -I. $v"
			# Alone: once per compiler and build (C++17).
			[ $std = c++17 ] && for h in $HEADERS; do
				printf '#include "%s"\n' "$h" >"$out/one.cc"
				printf '#define PERCPU_IMPLEMENTATION\n#include "%s"\n' \
				    "$h" >"$out/one_impl.cc"
				# shellcheck disable=SC2086
				$cxx $f -c -o "$out/one.o" "$out/one.cc" &&
					$cxx $f -c -o "$out/one.o" "$out/one_impl.cc" ||
					{ echo "check-cxx: $h: $cxx $f"; status=1; }
			done
			for order in before after; do
				{
					[ $order = before ] &&
						printf '#include <thread>\n#include <atomic>\n'
					for h in $HEADERS; do printf '#include "%s"\n' "$h"; done
					[ $order = after ] &&
						printf '#include <thread>\n#include <atomic>\n'
					printf 'int main() { std::thread t([] {}); t.join(); }\n'
				} >"$out/all.cc"
				# shellcheck disable=SC2086
				$cxx $f -c -o "$out/all.o" "$out/all.cc" ||
					{ echo "check-cxx: <thread> $order: $cxx $f"; status=1; }
			done
		done
	done
done
# C implementation, C++ user; C++ implementation, C user.
for cxx in $CXX_LIST; do
	cc=gcc
	[ "$cxx" = clang++ ] && cc=clang
	$cc -std=c11 -Wall -Wextra -Werror -I. -c -o "$out/impl_c.o" \
	    test/lib/switch_impl.c &&
		$cxx -std=c++17 -Wall -Wextra -Werror -I. -x c++ -c \
		    -o "$out/use_cxx.o" test/lib/switch_use.c &&
		$cxx -o "$out/c_impl" "$out/impl_c.o" "$out/use_cxx.o" -pthread &&
		[ "$("$out/c_impl")" = ok ] ||
		{ echo "check-cxx: C implementation, C++ user ($cxx)"; status=1; }
	$cxx -std=c++20 -Wall -Wextra -Werror -I. -x c++ -c \
	    -o "$out/impl_cxx.o" test/lib/switch_impl.c &&
		$cc -std=c11 -Wall -Wextra -Werror -I. -c -o "$out/use_c.o" \
		    test/lib/switch_use.c &&
		$cxx -o "$out/cxx_impl" "$out/impl_cxx.o" "$out/use_c.o" -pthread &&
		[ "$("$out/cxx_impl")" = ok ] ||
		{ echo "check-cxx: C++ implementation, C user ($cxx)"; status=1; }
done
[ $status -eq 0 ] && echo "check-cxx: every header in C++17/20 (g++, clang++), any order; C and C++ implementations link both ways"
exit $status
