/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * percpu/impl_diag.h - recently freed handles (percpu/core.h): double
 * frees named as such without reading freed memory, and the PERCPU_DEBUG
 * quarantine that catches a counter used after free.
 *
 * Internal: included by percpu/core.h where PERCPU_IMPLEMENTATION is
 * defined.
 *
 * A ring of the last PERCPU_PRIV_FREED handles freed.  Entries are
 * atomics so that percpu_priv_freed() is a few relaxed loads, safe in a
 * signal handler; changes are serialized by a spin lock held for a few
 * stores (the eviction of a quarantined allocation frees it after the
 * lock is released).  A quarantined entry owns its arena allocation until
 * it is evicted: its address cannot be handed out again meanwhile, so a
 * use of the freed handle is found, not silently applied to a new object.
 */
#ifndef PERCPU_IMPL_DIAG_H
#define PERCPU_IMPL_DIAG_H

static struct {
	_Atomic(uintptr_t) p[PERCPU_PRIV_FREED];
	size_t size[PERCPU_PRIV_FREED]; /* quarantined: bytes; 0: noted only */
	unsigned next;			/* the slot to reuse next */
	atomic_int lock;
} percpu_priv_freed_g;

static void
percpu_priv_freed_lock(void)
{
	/* Acquire: pairs with the release in percpu_priv_freed_unlock(). */
	while (atomic_exchange_explicit(&percpu_priv_freed_g.lock, 1,
		   memory_order_acquire) != 0)
		;
}

static void
percpu_priv_freed_unlock(void)
{
	/* Release: pairs with the acquire in percpu_priv_freed_lock(). */
	atomic_store_explicit(&percpu_priv_freed_g.lock, 0,
	    memory_order_release);
}

int
percpu_priv_freed(const void *p)
{
	unsigned i;

	if (p == NULL)
		return (0);
	for (i = 0; i < PERCPU_PRIV_FREED; i++)
		if (atomic_load_explicit(&percpu_priv_freed_g.p[i],
			memory_order_relaxed) == (uintptr_t)p)
			return (1);
	return (0);
}

/* Record @p (with @size > 0: quarantined) and return the evicted entry's
 * allocation to free, or NULL. */
static void *
percpu_priv_freed_push(const void *p, size_t size, size_t *evict_size)
{
	uintptr_t old;
	unsigned i;

	percpu_priv_freed_lock();
	i = percpu_priv_freed_g.next;
	percpu_priv_freed_g.next = (i + 1) % PERCPU_PRIV_FREED;
	old = atomic_load_explicit(&percpu_priv_freed_g.p[i],
	    memory_order_relaxed);
	*evict_size = percpu_priv_freed_g.size[i];
	percpu_priv_freed_g.size[i] = size;
	atomic_store_explicit(&percpu_priv_freed_g.p[i], (uintptr_t)p,
	    memory_order_relaxed);
	percpu_priv_freed_unlock();
	return (*evict_size != 0 ? (void *)old : NULL);
}

void
percpu_priv_freed_note(const void *p)
{
	size_t n;
	void *old = percpu_priv_freed_push(p, 0, &n);

	if (old != NULL)
		(void)percpu_priv_zfree(old, n, NULL);
}

void
percpu_priv_freed_forget(void *p)
{
	unsigned i;

	if (p == NULL)
		return;
	percpu_priv_freed_lock();
	for (i = 0; i < PERCPU_PRIV_FREED; i++)
		if (atomic_load_explicit(&percpu_priv_freed_g.p[i],
			memory_order_relaxed) == (uintptr_t)p &&
		    percpu_priv_freed_g.size[i] == 0)
			atomic_store_explicit(&percpu_priv_freed_g.p[i], 0,
			    memory_order_relaxed);
	percpu_priv_freed_unlock();
}

void
percpu_priv_quarantine(void *p, size_t size)
{
	size_t n;
	void *old;

	if (p == NULL || size == 0)
		return;
	old = percpu_priv_freed_push(p, size, &n);
	if (old != NULL)
		(void)percpu_priv_zfree(old, n, NULL);
}

/* ---- One copy of the implementation per process ---- */

_Atomic(uintptr_t) percpu_priv_instance;

#if PERCPU_MP && PERCPU_MD_HOSTED && defined(__linux__) && defined(__ELF__)
# include <dlfcn.h>
# include <stdio.h>
# include <string.h>

/* This copy's private marker: its address names this copy. */
static const char percpu_priv_self = 1;

struct percpu_priv_modules {
	unsigned n;
	char name[64][256];
};

/* The files mapped into the process (/proc/self/maps): the loaded
 * modules, by path, each once; name[0] is "" for the executable. */
static void
percpu_priv_modules(struct percpu_priv_modules *m)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];

	m->n = 1;
	m->name[0][0] = '\0';
	if (f == NULL)
		return;
	while (m->n < 64 && fgets(line, sizeof(line), f) != NULL) {
		char *path = strchr(line, '/');
		unsigned k;

		if (path == NULL || strstr(path, ".so") == NULL)
			continue;
		path[strcspn(path, "\n")] = '\0';
		for (k = 1; k < m->n && strcmp(m->name[k], path) != 0; k++)
			;
		if (k == m->n && strlen(path) < sizeof(m->name[0]))
			memcpy(m->name[m->n++], path, strlen(path) + 1);
	}
	(void)fclose(f);
}

/*
 * percpu_priv_one_copy - at start (the CPU table's first use): is another
 * copy of the implementation, in another module of this process, already
 * running?  Two modules that each define PERCPU_IMPLEMENTATION and bind
 * to their own copy (dlopen(RTLD_LOCAL), -Bsymbolic, a private
 * visibility) split the state: sections of one do not exclude the
 * other's.  Every copy exports percpu_priv_instance; each module's is
 * looked up by name (the modules of /proc/self/maps, dlopen(RTLD_NOLOAD)
 * and dlsym(), which see modules that RTLD_DEFAULT does not), and one that holds another copy's marker
 * is reported through the error handler (default: abort).
 * Context: percpu_priv_init_once(), once per copy.
 */
static void
percpu_priv_one_copy(void)
{
	static struct percpu_priv_modules m;
	unsigned i;

	percpu_priv_modules(&m);
	for (i = 0; i < m.n; i++) {
		void *h = dlopen(m.name[i][0] != '\0' ? m.name[i] : NULL,
		    RTLD_LAZY | RTLD_NOLOAD);
		_Atomic(uintptr_t) *inst;
		uintptr_t v;

		if (h == NULL)
			continue;
		inst = (_Atomic(uintptr_t) *)dlsym(h, "percpu_priv_instance");
		v = inst != NULL ?
		    atomic_load_explicit(inst, memory_order_relaxed) :
		    0;
		(void)dlclose(h);
		if (v != 0 && v != (uintptr_t)&percpu_priv_self) {
			percpu_priv_fail("two copies of the implementation in "
					 "one process: another one runs in %s; "
					 "define PERCPU_IMPLEMENTATION in one "
					 "module only and let the others use "
					 "its exported API",
			    m.name[i][0] != '\0' ? m.name[i] :
						   "the executable");
			break;
		}
	}
	atomic_store_explicit(&percpu_priv_instance,
	    (uintptr_t)&percpu_priv_self, memory_order_relaxed);
}
#elif PERCPU_MP
static void
percpu_priv_one_copy(void)
{
	atomic_store_explicit(&percpu_priv_instance, 1, memory_order_relaxed);
}
#endif

#endif /* PERCPU_IMPL_DIAG_H */
