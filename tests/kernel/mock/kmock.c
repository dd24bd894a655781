// SPDX-License-Identifier: GPL-2.0
/* The mock kernel behind the headers in tests/kernel/mock/linux; kmock.h says how it runs. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/kernel.h>
#include <linux/bug.h>
#include <linux/atomic.h>
#include <linux/cpuhotplug.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

unsigned int kmock_nr_cpus = 2;
unsigned int kmock_cpu;
struct task_struct kmock_task0 = { "task0" };
struct task_struct kmock_cpuhp_task = { "cpuhp" };
struct task_struct *kmock_current = &kmock_task0;
int kmock_preempt_count[NR_CPUS];
int kmock_rcu_depth[NR_CPUS];
struct page kmock_mem_map[KMOCK_NR_PAGES];
bool kmock_fail_nowait;
unsigned int kmock_last_page_gfp, kmock_last_kmalloc_gfp;

static bool online[NR_CPUS];
static long live_objects, live_pages;
static unsigned long warnings, violations;
static char last_violation[256];

static struct {
	const char *what;
	unsigned int nth, seen;
	kmock_fn fn;
	void *arg;
	bool running, fired;
	const char *at;
} point;

static struct rcu_head *rcu_queue;

#define MAX_STATES 4
static struct {
	bool used;
	int (*startup)(unsigned int cpu);
	int (*teardown)(unsigned int cpu);
} states[MAX_STATES];

void kmock_violation(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_violation, sizeof(last_violation), fmt, ap);
	va_end(ap);
	violations++;
	fprintf(stderr, "kmock: VIOLATION (cpu %u, %s): %s\n", kmock_cpu,
		kmock_current ? kmock_current->comm : "?", last_violation);
}

void kmock_warn(const char *file, int line, const char *cond)
{
	warnings++;
	fprintf(stderr, "kmock: WARNING at %s:%d: %s\n", file, line, cond);
}

void kmock_reset(unsigned int nr_cpus)
{
	unsigned int cpu;

	if (nr_cpus < 1 || nr_cpus > NR_CPUS)
		abort();
	kmock_nr_cpus = nr_cpus;
	for (cpu = 0; cpu < NR_CPUS; cpu++) {
		online[cpu] = cpu < nr_cpus;
		kmock_preempt_count[cpu] = 0;
		kmock_rcu_depth[cpu] = 0;
	}
	kmock_cpu = 0;
	kmock_current = &kmock_task0;
	memset(&point, 0, sizeof(point));
	memset(states, 0, sizeof(states));
	warnings = violations = 0;
	last_violation[0] = 0;
	kmock_fail_nowait = false;
}

bool kmock_cpu_online(unsigned int cpu)
{
	return cpu < kmock_nr_cpus && online[cpu];
}

/* Run @fn as the hotplug control task on an online CPU other than @cpu. */
static int as_control_task(unsigned int cpu, bool up)
{
	unsigned int saved_cpu = kmock_cpu, ctl = 0;
	struct task_struct *saved = kmock_current;
	int i, ret = 0;

	while (ctl < kmock_nr_cpus && (ctl == cpu || !online[ctl]))
		ctl++;
	if (ctl == kmock_nr_cpus) {
		kmock_violation("hotplug of cpu %u with no other CPU online", cpu);
		return -EBUSY;
	}
	kmock_cpu = ctl;
	kmock_current = &kmock_cpuhp_task;
	if (up) {
		for (i = 0; i < MAX_STATES && !ret; i++)
			if (states[i].used && states[i].startup)
				ret = states[i].startup(cpu);
	} else {
		for (i = MAX_STATES - 1; i >= 0; i--)
			if (states[i].used && states[i].teardown)
				states[i].teardown(cpu);
	}
	kmock_cpu = saved_cpu;
	kmock_current = saved;
	return ret;
}

int kmock_cpu_down(unsigned int cpu)
{
	if (!kmock_cpu_online(cpu)) {
		kmock_violation("cpu %u down: not online", cpu);
		return -EINVAL;
	}
	if (kmock_preempt_count[cpu] || kmock_rcu_depth[cpu]) {
		/* The kernel's stop_machine cannot run there: down waits. */
		kmock_violation("cpu %u down with preemption off or an RCU reader on it", cpu);
		return -EBUSY;
	}
	online[cpu] = false;
	return as_control_task(cpu, false);
}

int kmock_cpu_up(unsigned int cpu)
{
	int ret;

	if (cpu >= kmock_nr_cpus || online[cpu]) {
		kmock_violation("cpu %u up: not an offline possible CPU", cpu);
		return -EINVAL;
	}
	ret = as_control_task(cpu, true);
	if (!ret)
		online[cpu] = true;
	return ret;
}

int cpuhp_setup_state(enum cpuhp_state state, const char *name,
		      int (*startup)(unsigned int cpu), int (*teardown)(unsigned int cpu))
{
	unsigned int cpu;
	int i, ret;

	might_sleep();
	if (state != CPUHP_BP_PREPARE_DYN) {
		kmock_violation("cpuhp_setup_state(%d): only CPUHP_BP_PREPARE_DYN is mocked", state);
		return -EINVAL;
	}
	for (i = 0; i < MAX_STATES && states[i].used; i++)
		;
	if (i == MAX_STATES)
		return -ENOSPC;
	for (cpu = 0; cpu < kmock_nr_cpus; cpu++) {
		if (!online[cpu] || !startup)
			continue;
		ret = startup(cpu);
		if (ret) {
			/* The kernel rolls back the CPUs done so far. */
			while (cpu-- > 0)
				if (online[cpu] && teardown)
					teardown(cpu);
			return ret;
		}
	}
	states[i].used = true;
	states[i].startup = startup;
	states[i].teardown = teardown;
	return CPUHP_BP_PREPARE_DYN + i;
}

void cpuhp_remove_state(enum cpuhp_state state)
{
	int i = state - CPUHP_BP_PREPARE_DYN;
	unsigned int cpu;

	might_sleep();
	if (i < 0 || i >= MAX_STATES || !states[i].used) {
		kmock_violation("cpuhp_remove_state(%d): not set up", state);
		return;
	}
	for (cpu = 0; cpu < kmock_nr_cpus; cpu++)
		if (online[cpu] && states[i].teardown)
			states[i].teardown(cpu);
	states[i].used = false;
}

void kmock_at_point(const char *what, unsigned int nth, kmock_fn fn, void *arg)
{
	point.what = what;
	point.nth = nth;
	point.seen = 0;
	point.fn = fn;
	point.arg = arg;
	point.fired = false;
	point.at = NULL;
}

bool kmock_point_fired(void)
{
	return point.fired;
}

const char *kmock_point_fired_at(void)
{
	return point.at;
}

void kmock_point(const char *what)
{
	unsigned int cpu = kmock_cpu;
	struct task_struct *task = kmock_current;
	kmock_fn fn = point.fn;

	if (!fn || point.running || (point.what && strcmp(point.what, what)))
		return;
	if (++point.seen != point.nth)
		return;
	point.running = true;
	point.fn = NULL;
	point.at = what;
	fn(point.arg);
	point.fired = true;
	point.running = false;
	/* The interrupted task resumes where it was. */
	kmock_cpu = cpu;
	kmock_current = task;
}

static bool atomic_context(void)
{
	return kmock_preempt_count[kmock_cpu] || kmock_rcu_depth[kmock_cpu];
}

void might_sleep(void)
{
	if (atomic_context())
		kmock_violation("might_sleep() in atomic context (preempt %d, rcu %d)",
				kmock_preempt_count[kmock_cpu], kmock_rcu_depth[kmock_cpu]);
}

void cond_resched(void)
{
	might_sleep();
}

void preempt_enable(void)
{
	if (kmock_preempt_count[kmock_cpu]-- <= 0) {
		kmock_violation("preempt_enable() without preempt_disable()");
		kmock_preempt_count[kmock_cpu] = 0;
	}
}

void spin_lock(spinlock_t *lock)
{
	kmock_point("spin_lock");
	if (lock->locked) {
		kmock_violation("spin_lock of a lock held by cpu %u: a deadlock", lock->cpu);
		abort();
	}
	lock->locked = 1;
	lock->cpu = kmock_cpu;
	kmock_preempt_count[kmock_cpu]++;
}

void spin_unlock(spinlock_t *lock)
{
	if (!lock->locked || lock->cpu != kmock_cpu)
		kmock_violation("spin_unlock of a lock this CPU does not hold");
	lock->locked = 0;
	preempt_enable();
}

void rcu_read_unlock(void)
{
	if (kmock_rcu_depth[kmock_cpu]-- <= 0) {
		kmock_violation("rcu_read_unlock() without rcu_read_lock()");
		kmock_rcu_depth[kmock_cpu] = 0;
	}
}

void call_rcu(struct rcu_head *head, void (*func)(struct rcu_head *head))
{
	struct rcu_head **p = &rcu_queue;

	/* In order, as the kernel runs one CPU's callbacks. */
	while (*p) {
		if (*p == head) {
			/* CONFIG_DEBUG_OBJECTS_RCU_HEAD's catch: a double free. */
			kmock_violation("call_rcu of an rcu_head already queued");
			abort();
		}
		p = &(*p)->next;
	}
	head->func = func;
	head->next = NULL;
	*p = head;
}

void kmock_rcu_grace_period(void)
{
	unsigned int cpu;
	struct rcu_head *h;

	for (cpu = 0; cpu < NR_CPUS; cpu++)
		/* Preemption off is a reader too (consolidated RCU, 4.20+). */
		if (kmock_rcu_depth[cpu] || kmock_preempt_count[cpu])
			kmock_violation("RCU grace period with a reader on cpu %u", cpu);
	while ((h = rcu_queue)) {
		rcu_queue = h->next;
		h->func(h);
	}
}

unsigned int kmock_rcu_pending(void)
{
	unsigned int n = 0;
	struct rcu_head *h;

	for (h = rcu_queue; h; h = h->next)
		n++;
	return n;
}

void rcu_barrier(void)
{
	might_sleep();
	kmock_rcu_grace_period();
}

/* A sleeping allocation in atomic context is a bug; a non-sleeping one may fail. */
static bool alloc_fails(gfp_t gfp)
{
	if (gfp & __GFP_DIRECT_RECLAIM)
		might_sleep();
	return kmock_fail_nowait && !(gfp & (__GFP_DIRECT_RECLAIM | __GFP_NOFAIL));
}

void *kmalloc(size_t size, gfp_t gfp)
{
	void *p;

	kmock_last_kmalloc_gfp = gfp;
	if (gfp & (__GFP_HIGHMEM | __GFP_MOVABLE))
		kmock_violation("kmalloc with __GFP_HIGHMEM or __GFP_MOVABLE (gfp %#x)", gfp);
	if (alloc_fails(gfp))
		return NULL;
	p = gfp & __GFP_ZERO ? calloc(1, size ? size : 1) : malloc(size ? size : 1);
	if (!p)
		abort();
	live_objects++;
	return p;
}

void kfree(const void *ptr)
{
	if (!ptr)
		return;
	live_objects--;
	free((void *)ptr);
}

size_t kmalloc_size_roundup(size_t size)
{
	size_t b = 8;

	while (b < size)
		b <<= 1;
	return b;
}

struct kmem_cache {
	unsigned int size;
};

struct kmem_cache *kmem_cache_create(const char *name, unsigned int size, unsigned int align,
				     unsigned long flags, void (*ctor)(void *))
{
	struct kmem_cache *c;

	might_sleep();
	c = malloc(sizeof(*c));
	if (!c)
		abort();
	c->size = size;
	live_objects++;
	return c;
}

void kmem_cache_destroy(struct kmem_cache *cache)
{
	might_sleep();
	kfree(cache);
}

void *kmem_cache_alloc(struct kmem_cache *cache, gfp_t gfp)
{
	return kmalloc(cache->size, gfp);
}

void kmem_cache_free(struct kmem_cache *cache, void *obj)
{
	kfree(obj);
}

struct page *alloc_page(gfp_t gfp)
{
	unsigned int i;

	kmock_last_page_gfp = gfp;
	if (alloc_fails(gfp))
		return NULL;
	for (i = 0; i < KMOCK_NR_PAGES && kmock_mem_map[i].virt; i++)
		;
	if (i == KMOCK_NR_PAGES) {
		kmock_violation("mock mem_map full (%d pages)", KMOCK_NR_PAGES);
		abort();
	}
	kmock_mem_map[i].virt = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	if (!kmock_mem_map[i].virt)
		abort();
	kmock_mem_map[i].flags = 0;
	kmock_mem_map[i].private = 0;
	live_pages++;
	return &kmock_mem_map[i];
}

void __free_page(struct page *page)
{
	if (!page->virt) {
		kmock_violation("__free_page of a free page (pfn %#lx)", page_to_pfn(page));
		return;
	}
	if (page->flags & PG_private)
		kmock_violation("__free_page of a page still PagePrivate");
	free(page->virt);
	page->virt = NULL;
	page->flags = 0;
	page->private = 0;
	live_pages--;
}

unsigned long __get_free_page(gfp_t gfp)
{
	struct page *page = alloc_page(gfp);

	return page ? (unsigned long)page->virt : 0;
}

void free_page(unsigned long addr)
{
	struct page *page;

	if (!addr)
		return;
	if (addr & (PAGE_SIZE - 1))
		kmock_violation("free_page(%#lx): not a page address", addr);
	page = virt_to_page((void *)addr);
	if (page)
		__free_page(page);
}

void put_page(struct page *page)
{
	__free_page(page);
}

bool trylock_page(struct page *page)
{
	if (page->flags & PG_locked)
		return false;
	page->flags |= PG_locked;
	return true;
}

void lock_page(struct page *page)
{
	might_sleep();
	if (page->flags & PG_locked)
		kmock_violation("lock_page: pfn %#lx already locked (would wait for ever)", page_to_pfn(page));
	page->flags |= PG_locked;
}

void unlock_page(struct page *page)
{
	if (!(page->flags & PG_locked))
		kmock_violation("unlock_page: pfn %#lx not locked", page_to_pfn(page));
	page->flags &= ~PG_locked;
}

struct page *virt_to_page(const void *addr)
{
	unsigned long base = (unsigned long)addr & ~(PAGE_SIZE - 1);
	unsigned int i;

	for (i = 0; i < KMOCK_NR_PAGES; i++)
		if ((unsigned long)kmock_mem_map[i].virt == base && base)
			return &kmock_mem_map[i];
	kmock_violation("virt_to_page(%p): not in an allocated page", addr);
	return NULL;
}

void *page_address(const struct page *page)
{
	if (!page->virt)
		kmock_violation("page_address of a free page");
	return page->virt;
}

void kmock_printk(const char *level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "kmock: printk(%s): ", level);
	if (!strcmp(fmt, "%pV")) {
		struct va_format *vaf = va_arg(ap, struct va_format *);
		va_list inner;

		va_copy(inner, *vaf->va);
		vfprintf(stderr, vaf->fmt, inner);
		va_end(inner);
	} else {
		vfprintf(stderr, fmt, ap);
	}
	va_end(ap);
}

long kmock_live_objects(void)
{
	return live_objects;
}

long kmock_live_pages(void)
{
	return live_pages;
}

unsigned long kmock_warnings(void)
{
	return warnings;
}

unsigned long kmock_violations(void)
{
	return violations;
}

const char *kmock_last_violation(void)
{
	return last_violation;
}
