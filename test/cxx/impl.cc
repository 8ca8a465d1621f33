// SPDX-License-Identifier: BSD-2-Clause
// impl.cc - the toolkit's implementation, compiled as C++ (issue 14,
// item 2): the C++ suite (test_cxx.cc) runs on it.
#define PERCPU_IMPLEMENTATION
#include "percpu.h"
