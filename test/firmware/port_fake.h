/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * port_fake.h - a PERCPU_MD_USER port for hosted tests of the firmware
 * layer (test/firmware/test_irqmask.c): one CPU (id 0), and an
 * "interrupt mask" that is a variable, so a test can see whether each
 * operation runs masked.
 */
#ifndef PORT_FAKE_H
#define PORT_FAKE_H

#include <stdatomic.h>

#define PERCPU_MD_NAME "fake"
#define PERCPU_MD_HAS_CPU_ID 1
#define PERCPU_MD_NCPUS 1
#define PERCPU_MD_HAS_IRQ 1

/* 1 while "interrupts" are masked; the number of masking calls. */
extern unsigned port_fake_masked, port_fake_saves;

/* percpu_md_cpu_id - always CPU 0. */
static inline unsigned
percpu_md_cpu_id(void)
{
	return (0);
}

typedef unsigned percpu_md_irq_t;

/* percpu_md_irq_save - mask; count the call; return the old state. */
static inline percpu_md_irq_t
percpu_md_irq_save(void)
{
	unsigned old = port_fake_masked;

	port_fake_masked = 1;
	port_fake_saves++;
	atomic_signal_fence(memory_order_seq_cst);
	return (old);
}

/* percpu_md_irq_restore - the state back to @old. */
static inline void
percpu_md_irq_restore(percpu_md_irq_t old)
{
	atomic_signal_fence(memory_order_seq_cst);
	port_fake_masked = old;
}

#endif /* PORT_FAKE_H */
