/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the zspp KUnit suites share (kunit/helpers.c): byte patterns, the
 * one-pool fixture, writing and reading an object through each API, churn
 * threads with CPU hotplug, and page migration as the kernel does it. Each
 * suite is one file (kunit/<suite>.c); kunit/module.c registers them.
 */
#ifndef ZSPP_KUNIT_HELPERS_H
#define ZSPP_KUNIT_HELPERS_H

#include <kunit/test.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/random.h>
#include <linux/kthread.h>
#include <linux/delay.h>
#include <linux/cpu.h>
#include <linux/sched.h>
#include <linux/completion.h>
#include <linux/vmalloc.h>
#include <linux/migrate.h>
#include <linux/pagemap.h>

#include <zspp/zspp.h>

#define NR_SIZES ZSPP_MAX_ALLOC_SIZE

/* The byte at @off of object @seed: distinct per object and per position. */
static inline u8 pattern(u32 seed, size_t off)
{
	u32 x = seed * 2654435761u + (u32)off * 40503u;

	return (u8)(x ^ (x >> 13) ^ (x >> 24));
}

void fill(u8 *buf, size_t len, u32 seed);
/* Offset of the first wrong byte, or -1. */
long check(const u8 *buf, size_t len, u32 seed);

/* The suites' .init/.exit: one pool "kunit" (chain 8), empty at the end. */
int pool_init(struct kunit *test);
void pool_exit(struct kunit *test);
struct zspp_pool *fixture_pool(struct kunit *test);

/* The next class index at or above @idx that is not merged. */
unsigned int serving(struct zspp_pool *pool, unsigned int idx);

enum write_api { W_MAP_WO, W_MAP_RW, W_OBJ_WRITE, NR_W };
enum read_api { R_MAP_RO, R_MAP_RW, R_READ_BEGIN, NR_R };

void write_obj(struct zspp_pool *pool, unsigned long h, size_t size, u32 seed,
	       enum write_api api, u8 *scratch);
/* Returns the first bad offset or -1. */
long read_obj(struct zspp_pool *pool, unsigned long h, size_t size, u32 seed,
	      enum read_api api, u8 *scratch);

/* A thread that allocates, writes, reads back and frees at random in one class. */
struct churn_arg {
	struct zspp_pool *pool;
	size_t size;
	unsigned int ops;
	atomic_t *stop;
	long errors;
	bool migrate;		/* migrate pages of its own objects as it goes */
	bool faults;		/* make_it_fail: 3% of its non-sleeping allocations fail */
	bool copies;		/* only 4 contents: many identical objects (folding) */
	unsigned long migrations;
	unsigned long enomem;
	struct completion done;
};

int churn_thread(void *data);
/*
 * Wait until all @n churn threads are done; with @hotplug, take CPU 1
 * offline and back online meanwhile. Returns the hotplug cycles made.
 */
unsigned int wait_churn(struct kunit *test, struct churn_arg *args, unsigned int n, bool hotplug);

#ifdef CONFIG_MIGRATION
/* Migrate @src as the kernel's migrate_pages() does (0: moved). */
int emulate_migration(struct page *src);
#endif

/* The suites, in kunit/<name>.c. */
extern struct kunit_suite zspp_class_suite, zspp_data_suite, zspp_handle_suite,
	zspp_error_suite, zspp_compaction_suite, zspp_concurrency_suite,
	zspp_writeback_suite;
#ifdef ZSPP_FOLD
extern struct kunit_suite zspp_fold_suite;
#endif

#endif /* ZSPP_KUNIT_HELPERS_H */
