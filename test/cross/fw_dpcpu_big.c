/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fw_dpcpu_big.c - a DPCPU set larger than PERCPU_UNIT_SIZE: the link
 * with firmware/dpcpu.ld must fail (test/cross/link-fw.sh).
 */
#include "dpcpu.h"

DPCPU_DEFINE(unsigned char, fw_big[4096]);
