// SPDX-License-Identifier: GPL-2.0
/*
 * zspp_bench: micro benchmark of zspp against zsmalloc in one boot of one kernel
 * (scripts/bench.sh; Documentation/benchmarks.md).
 *
 * Both allocators get the same object stream: NOBJ sizes drawn with a seeded
 * PRNG from the LZO size histogram of real pages (bench/data/lzo-sizes.csv,
 * compiled in as bench_hist.h), contents taken from a seeded random buffer at
 * a per-object offset, so every object can be checked after reading it back.
 *
 * One run = one allocator configuration (zsmalloc through zs_*; zspp through
 * its classic map API or its read_begin/obj_write API, at a chain size) and a
 * thread count (zsmalloc runs are paired with zspp runs, see the driver):
 *   malloc+write all objects (timed), density after the fill,
 *   read every object in a shuffled order (timed; copy out as a consumer would),
 *   verify every object (untimed),
 *   free a shuffled 50% (timed), compact (timed), density again,
 *   verify the rest (untimed), free the rest (timed).
 * With T threads each phase splits the objects into T ranges, one kthread per
 * CPU; each thread times its own range after a start barrier and the reported
 * time of a phase is the sum of the threads' times (so ns/op is per-thread
 * latency). Runs are repeated REPS times, the configurations interleaved
 * (round robin, the starting configuration rotating every repeat), and every
 * zspp run has its own zsmalloc run next to it (pair=), before or after it in
 * turn: ratios are taken within a pair.
 *
 * Output: one line per run on the kernel log (pr_info; read it with dmesg):
 *   BENCH-RUN rep= pair= alloc= api= chain= threads= n= fail= stored_fill= pages_fill=
 *     stored_half= pages_half= meta_fill= malloc_ns= read_ns= free_ns= frees=
 *     compact_ns= compact_pages= verified= mismatches=
 * (times are totals in ns over the phase; the parser divides by n or frees)
 * and BENCH-BEGIN / BENCH-END lines around them. Nothing here judges timings.
 *
 * Folding (fold_dups=, after the runs above): for each percentage P, a
 * stream in which P% of the objects (evenly spread) are byte-identical
 * copies of a seeded random earlier object (same size, same bytes; every
 * other object's bytes are unique) goes into a zspp pool (obj_write API,
 * fold_chain, 1 thread); then zspp_compact, and in a CONFIG_ZSPP_FOLD build
 * (this module compiled with ZSPP_FOLD=1 against that zspp.ko) zspp_fold
 * twice (timed: the folding pass, then a pass with nothing new to fold);
 * then the pool statistics, a timed read of every object, a verify of every
 * object, free 50% + compact, verify the rest, free the rest:
 *   BENCH-FOLD rep= build= dup_pct= chain= n= dups= fail= stored= stored_distinct=
 *     pages_fill= compact_pages= pages_before= fold_ns= fold_freed= refold_ns=
 *     refold_freed= pages_after= objs_folded= pages_folded= bytes_folded=
 *     fold_collisions= fold_cow= fold_passes= validate= read_ns= reads= corrupted=
 *     verified= expected= mismatches= pages_half= pages_end=
 * Without the option the same lines come with fold_ns=0 etc.: the baseline.
 */
#define pr_fmt(fmt) fmt
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <linux/zsmalloc.h>

#include <zspp/zspp.h>

#include "bench_hist.h"

static unsigned int nobj = 20000;
module_param(nobj, uint, 0444);
MODULE_PARM_DESC(nobj, "objects per run");
static unsigned int reps = 5;
module_param(reps, uint, 0444);
MODULE_PARM_DESC(reps, "repeats of every configuration (interleaved)");
static char *chains = "4,8,16";
module_param(chains, charp, 0444);
MODULE_PARM_DESC(chains, "zspp chain sizes (comma-separated)");
static char *threads = "1,2";
module_param(threads, charp, 0444);
MODULE_PARM_DESC(threads, "thread counts (comma-separated)");
static char *allocs = "zsmalloc,zspp-map,zspp-rw,zspp-lru";
module_param(allocs, charp, 0444);
MODULE_PARM_DESC(allocs, "configurations: zsmalloc, zspp-map, zspp-rw, zspp-lru (rw API on an evictable pool, as zswap 6.1 creates it; at lru_chain only)");
static unsigned int lru_chain = 8;
module_param(lru_chain, uint, 0444);
MODULE_PARM_DESC(lru_chain, "chain size of the zspp-lru configuration");
static unsigned long seed = 1;
module_param(seed, ulong, 0444);
MODULE_PARM_DESC(seed, "stream seed (sizes, contents, orders)");

static char *fold_dups = "";
module_param(fold_dups, charp, 0444);
MODULE_PARM_DESC(fold_dups, "folding runs: percentages of duplicate objects (comma-separated; empty: none)");
static unsigned int fold_reps = 3;
module_param(fold_reps, uint, 0444);
MODULE_PARM_DESC(fold_reps, "repeats of every folding run");
static unsigned int fold_chain = 8;
module_param(fold_chain, uint, 0444);
MODULE_PARM_DESC(fold_chain, "chain size of the folding runs' pool");

#ifdef ZSPP_FOLD
#define BENCH_BUILD "fold"
#else
#define BENCH_BUILD "nofold"
#endif

/*
 * Memory accounting (hold=1): the module's init only makes the stream; the
 * guest then writes commands to /sys/module/zspp_bench/parameters/action and
 * reads /proc/slabinfo and /proc/meminfo between them (boot with
 * slab_nomerge, so every allocator cache has its own line):
 *   "fill CONFIG CHAIN"  create a pool (CONFIG as in allocs=, e.g. zspp-rw)
 *                        and malloc + write every object, in the writer's
 *                        context (no kthread), then BENCH-MEM phase=fill
 *   "churn"              free a shuffled 50%, compact, BENCH-MEM phase=churn
 *   "release"            verify every object left, free them, destroy the
 *                        pool, BENCH-MEM phase=release
 * BENCH-MEM cfg= alloc= api= chain= phase= n= fail= objs= stored= pages=
 *   meta= compact_pages= verified= mismatches=
 * (pages: the allocator's own page count; meta: zspp's bytes_metadata stat,
 * 0 for zsmalloc; the slab deltas are the guest's, measured around it).
 */
static unsigned int hold;
module_param(hold, uint, 0444);
MODULE_PARM_DESC(hold, "1: run nothing at load; take fill/churn/release commands on the action parameter");

static unsigned int corrupt;
module_param(corrupt, uint, 0444);
MODULE_PARM_DESC(corrupt, "self-test: after each fill, flip a byte in this many objects (the verify must count them)");

/* 6.1 zswap's gfp for zpool_malloc on a zpool that supports movable pages. */
#define BENCH_GFP (__GFP_NORETRY | __GFP_NOWARN | __GFP_KSWAPD_RECLAIM | __GFP_HIGHMEM | __GFP_MOVABLE)
#define SRC_BYTES (1u << 20)
/* zsmalloc's most pages per zspage: 4 on 6.1 (ZS_MAX_ZSPAGE_ORDER 2), CONFIG_ZSMALLOC_CHAIN_SIZE from 6.3. */
#ifdef CONFIG_ZSMALLOC_CHAIN_SIZE
#define ZS_CHAIN CONFIG_ZSMALLOC_CHAIN_SIZE
#else
#define ZS_CHAIN 4
#endif
#define MAX_THREADS 8

/* ---------------------------------------------------------------- stream */

static u64 mix64(u64 x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static u16 *sizes;		/* object i's size */
static u32 *read_order;		/* shuffled indices for the read phase */
static u32 *free_order;		/* shuffled indices for the free phases */
static unsigned long *handles;	/* 0 = not allocated */
static u8 *src;			/* SRC_BYTES + 4096 random bytes */
/*
 * Folding runs (ident != NULL): object i holds the bytes of object ident[i]
 * (i itself, or the earlier object it duplicates), at an offset that differs
 * for every identity below SRC_BYTES / 8, so only duplicates are identical.
 */
static u32 *ident;
static bool fold_stream;

static const u8 *content(u32 i)
{
	if (fold_stream) {
		u32 u = ident[i];

		return src + (size_t)((u * 0x9e3779b1u) & (SRC_BYTES / 8 - 1)) * 8;
	}
	return src + ((mix64(seed ^ ((u64)i << 20)) % SRC_BYTES) & ~7ULL);
}

static size_t obj_size(u32 i)
{
	return fold_stream ? sizes[ident[i]] : sizes[i];
}

static u16 draw_size(u64 *state)
{
	u32 r, lo = 0, hi = BENCH_HIST_N - 1;

	*state = mix64(*state);
	r = *state % BENCH_HIST_TOTAL;
	while (lo < hi) {
		u32 mid = (lo + hi) / 2;

		if (bench_hist_cum[mid] > r)
			hi = mid;
		else
			lo = mid + 1;
	}
	return bench_hist_size[lo];
}

static void shuffle(u32 *a, u32 n, u64 s)
{
	u32 i;

	for (i = 0; i < n; i++)
		a[i] = i;
	for (i = n - 1; i > 0; i--) {
		u32 j, t;

		s = mix64(s);
		j = s % (i + 1);
		t = a[i];
		a[i] = a[j];
		a[j] = t;
	}
}

static int make_stream(void)
{
	u64 st = seed * 0x2545f4914f6cdd1dULL;
	u32 i;

	sizes = vmalloc(array_size(nobj, sizeof(*sizes)));
	read_order = vmalloc(array_size(nobj, sizeof(*read_order)));
	free_order = vmalloc(array_size(nobj, sizeof(*free_order)));
	handles = vzalloc(array_size(nobj, sizeof(*handles)));
	src = vmalloc(SRC_BYTES + 4096);
	ident = vmalloc(array_size(nobj, sizeof(*ident)));
	if (!sizes || !read_order || !free_order || !handles || !src || !ident)
		return -ENOMEM;
	for (i = 0; i < nobj; i++)
		sizes[i] = draw_size(&st);
	for (i = 0; i < (SRC_BYTES + 4096) / 8; i++) {
		st = mix64(st);
		((u64 *)src)[i] = st;
	}
	shuffle(read_order, nobj, seed + 1);
	shuffle(free_order, nobj, seed + 2);
	return 0;
}

static void free_stream(void)
{
	vfree(sizes);
	vfree(read_order);
	vfree(free_order);
	vfree(handles);
	vfree(src);
	vfree(ident);
}

/* ---------------------------------------------------------------- allocators */

enum bench_api { API_ZSMALLOC, API_ZSPP_MAP, API_ZSPP_RW, API_ZSPP_LRU, NR_APIS };
static const char *const api_alloc[] = { "zsmalloc", "zspp", "zspp", "zspp" };
static const char *const api_name[] = { "map", "map", "rw", "rw-lru" };
static const char *const api_param[] = { "zsmalloc", "zspp-map", "zspp-rw", "zspp-lru" };

/* Never called: the bench does not reclaim; the pool only keeps its LRU. */
static int bench_evict(void *ctx, unsigned long handle)
{
	return -EAGAIN;
}

struct bench_pool {
	enum bench_api api;
	struct zs_pool *zs;
	struct zspp_pool *zp;
};

static int pool_create(struct bench_pool *p, enum bench_api api, unsigned int chain)
{
	p->api = api;
	p->zs = NULL;
	p->zp = NULL;
	if (api == API_ZSMALLOC) {
		p->zs = zs_create_pool("zspp_bench");
		return p->zs ? 0 : -ENOMEM;
	}
	if (api == API_ZSPP_LRU)
		return zspp_create_pool_evictable("zspp_bench", chain, bench_evict, NULL, &p->zp);
	return zspp_create_pool("zspp_bench", chain, &p->zp);
}

static void pool_destroy(struct bench_pool *p)
{
	if (p->zs)
		zs_destroy_pool(p->zs);
	if (p->zp)
		zspp_destroy_pool(p->zp);
}

static unsigned long pool_pages(struct bench_pool *p)
{
	return p->zs ? zs_get_total_pages(p->zs) : zspp_get_total_pages(p->zp);
}

static unsigned long pool_compact(struct bench_pool *p)
{
	return p->zs ? zs_compact(p->zs) : zspp_compact(p->zp);
}

/* malloc + write one object: 0 or -errno. */
static int obj_store(struct bench_pool *p, u32 i)
{
	size_t size = obj_size(i);
	unsigned long h;
	void *dst;
	int err;

	switch (p->api) {
	case API_ZSMALLOC:
		h = zs_malloc(p->zs, size, BENCH_GFP);
		if (IS_ERR_VALUE(h))
			return (int)(long)h;
		dst = zs_map_object(p->zs, h, ZS_MM_WO);
		memcpy(dst, content(i), size);
		zs_unmap_object(p->zs, h);
		break;
	case API_ZSPP_MAP:
		err = zspp_malloc(p->zp, size, BENCH_GFP, &h);
		if (err)
			return err;
		dst = zspp_map_object(p->zp, h, ZSPP_MM_WO);
		memcpy(dst, content(i), size);
		zspp_unmap_object(p->zp, h);
		break;
	default:
		err = zspp_malloc(p->zp, size, BENCH_GFP, &h);
		if (err)
			return err;
		err = zspp_obj_write(p->zp, h, content(i), size);
		if (err) {
			zspp_free(p->zp, h);
			return err;
		}
		break;
	}
	handles[i] = h;
	return 0;
}

/* Read object i into @buf (what a decompressor would consume). */
static void obj_load(struct bench_pool *p, u32 i, void *buf, void *local)
{
	unsigned long h = handles[i];
	size_t size = obj_size(i);
	void *s;

	switch (p->api) {
	case API_ZSMALLOC:
		s = zs_map_object(p->zs, h, ZS_MM_RO);
		memcpy(buf, s, size);
		zs_unmap_object(p->zs, h);
		break;
	case API_ZSPP_MAP:
		s = zspp_map_object(p->zp, h, ZSPP_MM_RO);
		memcpy(buf, s, size);
		zspp_unmap_object(p->zp, h);
		break;
	default:
		s = zspp_obj_read_begin(p->zp, h, local);
		memcpy(buf, s, size);
		zspp_obj_read_end(p->zp, h, s);
		break;
	}
}

static void obj_free(struct bench_pool *p, u32 i)
{
	if (p->zs)
		zs_free(p->zs, handles[i]);
	else
		zspp_free(p->zp, handles[i]);
	handles[i] = 0;
}

/* ---------------------------------------------------------------- phases */

enum phase { PH_STORE, PH_READ, PH_VERIFY, PH_FREE };

struct worker {
	struct bench_pool *pool;
	enum phase phase;
	const u32 *order;	/* NULL: identity */
	u32 from, to;		/* range of positions in order[] */
	atomic_t *ready;
	int nthreads;
	u64 ns;
	u32 ops, fail, verified, mismatches;
	u8 *buf, *local;
	struct completion done;
};

static int worker_fn(void *arg)
{
	struct worker *w = arg;
	u32 k;
	u64 t0;

	/* Start together: every thread is on its own CPU before anyone times. */
	atomic_inc(w->ready);
	while (atomic_read(w->ready) < w->nthreads)
		cpu_relax();
	t0 = ktime_get_ns();
	for (k = w->from; k < w->to; k++) {
		u32 i = w->order ? w->order[k] : k;

		switch (w->phase) {
		case PH_STORE:
			if (obj_store(w->pool, i))
				w->fail++;
			else
				w->ops++;
			break;
		case PH_READ:
			if (handles[i]) {
				obj_load(w->pool, i, w->buf, w->local);
				w->ops++;
			}
			break;
		case PH_VERIFY:
			if (handles[i]) {
				obj_load(w->pool, i, w->buf, w->local);
				if (memcmp(w->buf, content(i), obj_size(i)))
					w->mismatches++;
				else
					w->verified++;
			}
			break;
		case PH_FREE:
			if (handles[i]) {
				obj_free(w->pool, i);
				w->ops++;
			}
			break;
		}
		if ((k & 255) == 255)
			cond_resched();
	}
	w->ns = ktime_get_ns() - t0;
	complete(&w->done);
	return 0;
}

struct phase_result {
	u64 ns;
	u32 ops, fail, verified, mismatches;
};

/* Run @ph over order[from..to) split among @nt threads (CPU t for thread t). */
static int run_phase(struct bench_pool *pool, enum phase ph, const u32 *order, u32 from, u32 to,
		     int nt, struct worker *ws, struct phase_result *res)
{
	atomic_t ready = ATOMIC_INIT(0);
	struct task_struct *tasks[MAX_THREADS];
	int t;

	memset(res, 0, sizeof(*res));
	for (t = 0; t < nt; t++) {
		struct worker *w = &ws[t];

		w->pool = pool;
		w->phase = ph;
		w->order = order;
		w->from = from + (u32)((u64)(to - from) * t / nt);
		w->to = from + (u32)((u64)(to - from) * (t + 1) / nt);
		w->ready = &ready;
		w->nthreads = nt;
		w->ns = 0;
		w->ops = w->fail = w->verified = w->mismatches = 0;
		init_completion(&w->done);
		tasks[t] = kthread_create(worker_fn, w, "zspp_bench/%d", t);
		if (IS_ERR(tasks[t])) {
			pr_err("BENCH-ERROR kthread_create failed\n");
			/* Let the ones created so far run and finish. */
			for (nt = t, t = 0; t < nt; t++)
				ws[t].nthreads = nt;
			break;
		}
		kthread_bind(tasks[t], t % num_online_cpus());
	}
	for (t = 0; t < nt; t++)
		wake_up_process(tasks[t]);
	for (t = 0; t < nt; t++) {
		wait_for_completion(&ws[t].done);
		res->ns += ws[t].ns;
		res->ops += ws[t].ops;
		res->fail += ws[t].fail;
		res->verified += ws[t].verified;
		res->mismatches += ws[t].mismatches;
	}
	return nt;
}

static unsigned long zspp_meta(struct bench_pool *p)
{
	struct zspp_pool_stats st;

	if (!p->zp)
		return 0;
	zspp_pool_stats(p->zp, &st);
	return st.bytes_metadata;
}

/*
 * zspp only: pages in zspages that are not full (the per-class tails that
 * compaction cannot empty) and classes holding objects. -1 for zsmalloc,
 * which exports no per-class statistics.
 */
static void zspp_tails(struct bench_pool *p, long *tail_pages, long *classes)
{
	struct zspp_class_stats cs;
	unsigned int i, n;

	*tail_pages = -1;
	*classes = -1;
	if (!p->zp)
		return;
	*tail_pages = 0;
	*classes = 0;
	n = zspp_nr_classes(p->zp);
	for (i = 0; i < n; i++) {
		if (zspp_class_stats(p->zp, i, &cs) != 0 || !cs.obj_used)
			continue;
		(*classes)++;
		if (cs.objs_per_zspage)
			*tail_pages += (long)(cs.pages_used - (cs.fullness[ZSPP_NR_FULLNESS - 1] * cs.pages_per_zspage));
	}
}

/* Self-test (corrupt=N): flip a byte in the first N objects through a RW map. */
static u32 corrupt_objects(struct bench_pool *p)
{
	u32 i, done = 0;

	for (i = 0; i < nobj && i < corrupt; i++) {
		u8 *obj;

		if (!handles[i])
			continue;
		obj = p->zs ? zs_map_object(p->zs, handles[i], ZS_MM_RW) :
			      zspp_map_object(p->zp, handles[i], ZSPP_MM_RW);
		if (!obj) /* fold build: a shared object got no private copy */
			continue;
		obj[obj_size(i) / 2] ^= 0x5a;
		if (p->zs)
			zs_unmap_object(p->zs, handles[i]);
		else
			zspp_unmap_object(p->zp, handles[i]);
		done++;
	}
	return done;
}

static int one_run(unsigned int rep, int pair, enum bench_api api, unsigned int chain, int nt,
		   struct worker *ws)
{
	struct phase_result store, rd, v1, v2, f1, f2;
	struct bench_pool pool;
	u64 stored_fill = 0, stored_half = 0, t0, compact_ns;
	unsigned long pages_fill, pages_half, compact_pages, meta;
	long tail_half, classes_half;
	u32 i, half = nobj / 2;
	int err;

	err = pool_create(&pool, api, chain);
	if (err) {
		pr_err("BENCH-ERROR create %s chain %u: %d\n", api_param[api], chain, err);
		return err;
	}
	memset(handles, 0, array_size(nobj, sizeof(*handles)));
	run_phase(&pool, PH_STORE, NULL, 0, nobj, nt, ws, &store);
	corrupt_objects(&pool);
	for (i = 0; i < nobj; i++)
		if (handles[i])
			stored_fill += sizes[i];
	pages_fill = pool_pages(&pool);
	meta = zspp_meta(&pool);
	run_phase(&pool, PH_READ, read_order, 0, nobj, nt, ws, &rd);
	run_phase(&pool, PH_VERIFY, NULL, 0, nobj, nt, ws, &v1);
	run_phase(&pool, PH_FREE, free_order, 0, half, nt, ws, &f1);
	t0 = ktime_get_ns();
	compact_pages = pool_compact(&pool);
	compact_ns = ktime_get_ns() - t0;
	for (i = 0; i < nobj; i++)
		if (handles[i])
			stored_half += sizes[i];
	pages_half = pool_pages(&pool);
	zspp_tails(&pool, &tail_half, &classes_half);
	run_phase(&pool, PH_VERIFY, NULL, 0, nobj, nt, ws, &v2);
	run_phase(&pool, PH_FREE, free_order, half, nobj, nt, ws, &f2);
	pr_info("BENCH-RUN rep=%u pair=%d alloc=%s api=%s chain=%u threads=%d n=%u fail=%u stored_fill=%llu pages_fill=%lu stored_half=%llu pages_half=%lu meta_fill=%lu malloc_ns=%llu read_ns=%llu reads=%u free_ns=%llu frees=%u compact_ns=%llu compact_pages=%lu verified=%u expected=%u mismatches=%u pages_end=%lu tail_pages_half=%ld classes_half=%ld\n",
		rep, pair, api_alloc[api], api_name[api], api == API_ZSMALLOC ? ZS_CHAIN : chain, nt, nobj, store.fail,
		stored_fill, pages_fill, stored_half, pages_half, meta, store.ns, rd.ns, rd.ops,
		f1.ns + f2.ns, f1.ops + f2.ops, compact_ns, compact_pages, v1.verified + v2.verified,
		store.ops + (store.ops - f1.ops), v1.mismatches + v2.mismatches, pool_pages(&pool), tail_half, classes_half);
	pool_destroy(&pool);
	return 0;
}

/* ---------------------------------------------------------------- folding */

/*
 * The folding stream for @pct% duplicates: object i is a duplicate when
 * floor((i + 1) * pct / 100) steps (so exactly nobj * pct / 100 of them,
 * evenly spread), of a seeded random earlier object (of what that one holds).
 */
static u32 make_fold_stream(unsigned int pct)
{
	u32 i, dups = 0;

	for (i = 0; i < nobj; i++) {
		ident[i] = i;
		if (i && (u64)(i + 1) * pct / 100 > (u64)i * pct / 100) {
			u64 r = mix64(seed ^ 0xf01df01dULL ^ ((u64)pct << 40) ^ i);

			ident[i] = ident[r % i];
			dups++;
		}
	}
	fold_stream = true;
	return dups;
}

static int one_fold_run(unsigned int rep, unsigned int pct, struct worker *ws)
{
	struct phase_result store, rd, v1, v2, f1, f2;
	struct zspp_pool_stats st;
	struct bench_pool pool;
	u64 stored = 0, distinct = 0, fold_ns = 0, refold_ns = 0;
	unsigned long pages_fill, compact_pages, pages_before, pages_after, pages_half;
	unsigned long fold_freed = 0, refold_freed = 0;
	u32 i, dups, corrupted, half = nobj / 2;
	int err, validate;

	dups = make_fold_stream(pct);
	err = pool_create(&pool, API_ZSPP_RW, fold_chain);
	if (err) {
		pr_err("BENCH-ERROR create fold pool chain %u: %d\n", fold_chain, err);
		return err;
	}
	memset(handles, 0, array_size(nobj, sizeof(*handles)));
	run_phase(&pool, PH_STORE, NULL, 0, nobj, 1, ws, &store);
	for (i = 0; i < nobj; i++) {
		if (!handles[i])
			continue;
		stored += obj_size(i);
		if (ident[i] == i)
			distinct += obj_size(i);
	}
	pages_fill = pool_pages(&pool);
	compact_pages = zspp_compact(pool.zp);
	pages_before = pool_pages(&pool);
#ifdef ZSPP_FOLD
	{
		u64 t0 = ktime_get_ns();

		fold_freed = zspp_fold(pool.zp);
		fold_ns = ktime_get_ns() - t0;
		/* Nothing new to fold: what a periodic pass costs on a folded pool. */
		t0 = ktime_get_ns();
		refold_freed = zspp_fold(pool.zp);
		refold_ns = ktime_get_ns() - t0;
	}
#endif
	pages_after = pool_pages(&pool);
	zspp_pool_stats(pool.zp, &st);
	validate = zspp_debug_validate(pool.zp);
	corrupted = corrupt_objects(&pool);
	if (corrupted) { /* count the copies on write of the self-test too */
		struct zspp_pool_stats st2;

		zspp_pool_stats(pool.zp, &st2);
		st.fold_cow = st2.fold_cow;
	}
	run_phase(&pool, PH_READ, read_order, 0, nobj, 1, ws, &rd);
	run_phase(&pool, PH_VERIFY, NULL, 0, nobj, 1, ws, &v1);
	run_phase(&pool, PH_FREE, free_order, 0, half, 1, ws, &f1);
	zspp_compact(pool.zp);
	pages_half = pool_pages(&pool);
	run_phase(&pool, PH_VERIFY, NULL, 0, nobj, 1, ws, &v2);
	run_phase(&pool, PH_FREE, free_order, half, nobj, 1, ws, &f2);
	pr_info("BENCH-FOLD rep=%u build=%s dup_pct=%u chain=%u n=%u dups=%u fail=%u stored=%llu stored_distinct=%llu pages_fill=%lu compact_pages=%lu pages_before=%lu fold_ns=%llu fold_freed=%lu refold_ns=%llu refold_freed=%lu pages_after=%lu objs_folded=%lu pages_folded=%lu bytes_folded=%lu fold_collisions=%lu fold_cow=%lu fold_passes=%lu validate=%d read_ns=%llu reads=%u corrupted=%u verified=%u expected=%u mismatches=%u pages_half=%lu pages_end=%lu\n",
		rep, BENCH_BUILD, pct, fold_chain, nobj, dups, store.fail, stored, distinct, pages_fill,
		compact_pages, pages_before, fold_ns, fold_freed, refold_ns, refold_freed, pages_after,
		st.objs_folded, st.pages_folded, st.bytes_folded, st.fold_collisions, st.fold_cow, st.fold_passes,
		validate, rd.ns, rd.ops, corrupted, v1.verified + v2.verified, store.ops + (store.ops - f1.ops),
		v1.mismatches + v2.mismatches, pages_half, pool_pages(&pool));
	pool_destroy(&pool);
	fold_stream = false;
	return 0;
}

/* ---------------------------------------------------------------- memory accounting (hold=1) */

static DEFINE_MUTEX(hold_lock);
static struct bench_pool hold_pool;
static bool hold_live;
static enum bench_api hold_api;
static unsigned int hold_chain;
static bool stream_ready;
static u8 *hold_buf;

static void hold_report(const char *phase, u32 fail, unsigned long compact_pages, u32 verified, u32 mismatches)
{
	u64 stored = 0;
	u32 i, objs = 0;

	for (i = 0; i < nobj; i++)
		if (handles[i]) {
			stored += sizes[i];
			objs++;
		}
	pr_info("BENCH-MEM cfg=%s alloc=%s api=%s chain=%u phase=%s n=%u fail=%u objs=%u stored=%llu pages=%lu meta=%lu compact_pages=%lu verified=%u mismatches=%u\n",
		api_param[hold_api], api_alloc[hold_api], api_name[hold_api], hold_chain, phase, nobj, fail, objs, stored,
		hold_live ? pool_pages(&hold_pool) : 0, hold_live ? zspp_meta(&hold_pool) : 0, compact_pages, verified,
		mismatches);
}

static int hold_command(const char *cmd)
{
	char cfgname[16];
	unsigned int chain = 0;
	u32 i, fail = 0, verified = 0, mismatches = 0, half = nobj / 2;
	int a, err;

	if (!stream_ready)
		return -EINVAL;
	if (sscanf(cmd, "fill %15s %u", cfgname, &chain) >= 1) {
		if (hold_live)
			return -EBUSY;
		for (a = 0; a < NR_APIS; a++)
			if (!strcmp(cfgname, api_param[a]))
				break;
		if (a == NR_APIS)
			return -EINVAL;
		if (a == API_ZSMALLOC)
			chain = ZS_CHAIN;
		else if (chain < 1 || chain > 16)
			return -EINVAL;
		err = pool_create(&hold_pool, a, chain);
		if (err) {
			pool_destroy(&hold_pool);
			return err;
		}
		hold_live = true;
		hold_api = a;
		hold_chain = chain;
		memset(handles, 0, array_size(nobj, sizeof(*handles)));
		for (i = 0; i < nobj; i++) {
			if (obj_store(&hold_pool, i))
				fail++;
			if ((i & 255) == 255)
				cond_resched();
		}
		hold_report("fill", fail, 0, 0, 0);
		return 0;
	}
	if (!hold_live)
		return -EINVAL;
	if (!strncmp(cmd, "churn", 5)) {
		for (i = 0; i < half; i++) {
			u32 k = free_order[i];

			if (handles[k])
				obj_free(&hold_pool, k);
			if ((i & 255) == 255)
				cond_resched();
		}
		hold_report("churn", 0, pool_compact(&hold_pool), 0, 0);
		return 0;
	}
	if (!strncmp(cmd, "release", 7)) {
		for (i = 0; i < nobj; i++) {
			if (!handles[i])
				continue;
			obj_load(&hold_pool, i, hold_buf, hold_buf + 4096);
			if (memcmp(hold_buf, content(i), obj_size(i)))
				mismatches++;
			else
				verified++;
			obj_free(&hold_pool, i);
			if ((i & 255) == 255)
				cond_resched();
		}
		pool_destroy(&hold_pool);
		hold_live = false;
		hold_report("release", 0, 0, verified, mismatches);
		return 0;
	}
	return -EINVAL;
}

static int action_set(const char *val, const struct kernel_param *kp)
{
	int err;

	mutex_lock(&hold_lock);
	err = hold_command(val);
	mutex_unlock(&hold_lock);
	if (err)
		pr_err("BENCH-ERROR action '%s': %d\n", val, err);
	return err;
}

static const struct kernel_param_ops action_ops = {
	.set = action_set,
	.get = NULL,
};
module_param_cb(action, &action_ops, NULL, 0200);
MODULE_PARM_DESC(action, "hold=1 only: fill CONFIG CHAIN | churn | release");

/* ---------------------------------------------------------------- driver */

static int parse_list(const char *s, unsigned int *out, int max)
{
	int n = 0;

	while (*s && n < max) {
		unsigned int v = 0;

		while (*s >= '0' && *s <= '9')
			v = v * 10 + (*s++ - '0');
		out[n++] = v;
		if (*s != ',')
			break;
		s++;
	}
	return n;
}

struct config {
	enum bench_api api;
	unsigned int chain;
};

static int __init zspp_bench_init(void)
{
	unsigned int ch[8], th[4], fd[8], rep;
	struct config cfg[32];
	struct worker *ws;
	int nch, nth, nfd, ncfg = 0, a, c, t, k, err = 0, have_zs = 0;
	unsigned int runs = 0;
	u64 start = ktime_get_ns();

	if (hold) {
		hold_buf = kmalloc(2 * 4096, GFP_KERNEL);
		err = hold_buf ? make_stream() : -ENOMEM;
		if (err) {
			free_stream();
			kfree(hold_buf);
			return err;
		}
		stream_ready = true;
		pr_info("BENCH-HOLD nobj=%u seed=%lu zs_chain=%u\n", nobj, seed, ZS_CHAIN);
		return 0;
	}
	nch = parse_list(chains, ch, ARRAY_SIZE(ch));
	nth = parse_list(threads, th, ARRAY_SIZE(th));
	nfd = *fold_dups ? parse_list(fold_dups, fd, ARRAY_SIZE(fd)) : 0;
	for (k = 0; k < nfd; k++)
		if (fd[k] > 100)
			return -EINVAL;
	for (a = 0; a < NR_APIS; a++) {
		if (!strstr(allocs, api_param[a]))
			continue;
		if (a == API_ZSMALLOC) {
			have_zs = 1;
			continue;
		}
		if (a == API_ZSPP_LRU) {
			cfg[ncfg++] = (struct config){ a, lru_chain };
			continue;
		}
		for (c = 0; c < nch; c++)
			cfg[ncfg++] = (struct config){ a, ch[c] };
	}
	for (t = 0; t < nth; t++)
		if (th[t] < 1 || th[t] > MAX_THREADS)
			return -EINVAL;
	if (!nobj || (!ncfg && !have_zs && !nfd) || !nth)
		return -EINVAL;
	ws = kcalloc(MAX_THREADS, sizeof(*ws), GFP_KERNEL);
	if (!ws)
		return -ENOMEM;
	for (t = 0; t < MAX_THREADS; t++) {
		ws[t].buf = kmalloc(4096, GFP_KERNEL);
		ws[t].local = kmalloc(4096, GFP_KERNEL);
		if (!ws[t].buf || !ws[t].local) {
			err = -ENOMEM;
			goto out;
		}
	}
	err = make_stream();
	if (err)
		goto out;
	{
		u64 sum = 0;
		u32 i;

		for (i = 0; i < nobj; i++)
			sum += sizes[i];
		pr_info("BENCH-BEGIN build=%s nobj=%u reps=%u configs=%d threads=%s chains=%s seed=%lu cpus=%u hist_sizes=%u hist_pages=%u stream_bytes=%llu fold_dups=%s fold_reps=%u fold_chain=%u\n",
			BENCH_BUILD, nobj, reps, ncfg, threads, chains, seed, num_online_cpus(), BENCH_HIST_N,
			BENCH_HIST_TOTAL, sum, *fold_dups ? fold_dups : "none", nfd ? fold_reps : 0, fold_chain);
	}
	/*
	 * Interleaved: every repeat runs every zspp configuration once (starting
	 * one later each repeat), each paired with a zsmalloc run right before or
	 * after it (alternating), so each ratio compares neighbours in time.
	 */
	for (rep = 0; rep < reps; rep++)
		for (t = 0; t < nth; t++)
			for (k = 0; k < ncfg; k++) {
				struct config *cf = &cfg[(k + rep) % ncfg];
				int pair = (rep * nth + t) * ncfg + k, zs_first = (pair & 1) == 0;

				if (cf->api == API_ZSMALLOC)
					continue;
				if (have_zs && zs_first)
					err = one_run(rep, pair, API_ZSMALLOC, ZS_CHAIN, th[t], ws);
				if (!err)
					err = one_run(rep, pair, cf->api, cf->chain, th[t], ws);
				if (!err && have_zs && !zs_first)
					err = one_run(rep, pair, API_ZSMALLOC, ZS_CHAIN, th[t], ws);
				if (err)
					goto out;
				runs += 1 + have_zs;
			}
	if (!runs && have_zs) /* zsmalloc alone */
		for (rep = 0; rep < reps; rep++)
			for (t = 0; t < nth; t++, runs++) {
				err = one_run(rep, -1, API_ZSMALLOC, ZS_CHAIN, th[t], ws);
				if (err)
					goto out;
			}
	/* Folding runs: the percentages in turn, starting one later each repeat. */
	for (rep = 0; rep < (nfd ? fold_reps : 0); rep++)
		for (k = 0; k < nfd; k++) {
			err = one_fold_run(rep, fd[(k + rep) % nfd], ws);
			if (err)
				goto out;
		}
	pr_info("BENCH-END runs=%u fold_runs=%u seconds=%llu\n", runs, nfd ? fold_reps * nfd : 0,
		(ktime_get_ns() - start) / NSEC_PER_SEC);
out:
	free_stream();
	for (t = 0; t < MAX_THREADS; t++) {
		kfree(ws[t].buf);
		kfree(ws[t].local);
	}
	kfree(ws);
	if (err)
		pr_err("BENCH-ERROR aborted: %d\n", err);
	return err;
}

static void __exit zspp_bench_exit(void)
{
	if (!hold)
		return;
	if (hold_live) {
		u32 i;

		for (i = 0; i < nobj; i++)
			if (handles[i])
				obj_free(&hold_pool, i);
		pool_destroy(&hold_pool);
	}
	free_stream();
	kfree(hold_buf);
}

module_init(zspp_bench_init);
module_exit(zspp_bench_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("zspp vs zsmalloc micro benchmark");
MODULE_SOFTDEP("pre: zsmalloc zspp");
