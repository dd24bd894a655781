// SPDX-License-Identifier: GPL-2.0
/*
 * zspp end-to-end workload: push anonymous memory through swap (and so through
 * zswap and the zpool allocator under test) and verify every byte coming back.
 *
 * Build: gcc -static -O2 -o workload workload.c
 * Usage: workload [-s SEED] [-g ROUNDS] [-r PERCENT] [-q] [-o DUMP] [-C] [-L]
 *                 [-D PATTERNS] [-P PATH] PAGES
 *   -s SEED     content seed (default 1)
 *   -g ROUNDS   rewrite rounds after the first fill (default 2, at most 250)
 *   -r PERCENT  share of the pages rewritten in each round (default 30)
 *   -q          print one line per phase instead of progress every 25%
 *   -o DUMP     write the generation-1 content of every page to DUMP (for tuning)
 *   -C          self-test: corrupt three pages after the first rewrite, so the
 *               checks and the reporting of bad pages can be exercised without a
 *               broken kernel
 *   -L          lock the workload's own memory (code, data, heap, stack and the
 *               bookkeeping arrays; mlockall before the test area is mapped), so
 *               only the verified test area goes to swap: a kernel that loses
 *               swapped pages then shows up as counted mismatches instead of
 *               killing the workload (e.g. SIGFPE after a global read back as 0)
 *   -D PATTERNS duplicates (for folding): page i holds pattern i % PATTERNS, so
 *               every pattern repeats PAGES / PATTERNS times and identical pages
 *               compress to identical objects. Patterns are text (3/4),
 *               mostly-zero sparse (1/8) or record arrays (1/8), never zero,
 *               same-filled or random; patterns 2k and 2k+1 differ in their last
 *               byte only, so a fold that merged unequal objects reads back wrong
 *   -P PATH     pause after the fill: create PATH.paused, wait (up to 300 s)
 *               until PATH.go exists, then go on with the verify passes (the
 *               guest folds the pool in between)
 *
 * Every page's content is a pure function of (seed, page index, generation), so
 * it can be regenerated for checking instead of being kept in memory. The page
 * kind depends only on (seed, index):
 *   38%  text      words from a small dictionary (compresses ~2-3x)
 *   24%  sparse    mostly zero, a header and a few short runs of data
 *   15%  zero      all zero bytes (zswap keeps these out of the pool)
 *   18%  random    incompressible pseudo-random bytes (zswap rejects these)
 *    5%  struct    an array of small records with counters
 * Every non-zero page starts with a header {magic, index, generation, kind} so a
 * page that reads back wrong can be identified (older generation? another page?).
 *
 * Phases: fill (gen 1) -> verify sequential -> verify reverse -> verify random
 * order; then ROUNDS times: rewrite PERCENT% of the pages, in random order, as the
 * next generation (half of them are first discarded with MADV_DONTNEED, which
 * frees their swap entries and so their zswap objects, scattered over the pool)
 * -> verify in random order; finally verify sequentially once more.
 *
 * Last lines, machine-readable:
 *   WORKLOAD-BAD pages=B zeros=Z older=O other=T garbage=G
 *   WORKLOAD pages=N verified=V mismatches=M
 * V counts pages that passed every check; M counts failed page checks. B = N - V
 * pages failed at least one check, classified by what they held the first time:
 * all zero bytes, an older generation of the same page, another page's content
 * (or a valid header of one), anything else. The exit status is 0 only if M == 0
 * and V == N (1 on mismatch, 2 on usage/setup error).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define HDR_MAGIC 0x4c57505053505a31ULL /* "1ZSPPWL" */
#define MAX_REPORTS 10

enum kind { K_TEXT, K_SPARSE, K_ZERO, K_RANDOM, K_STRUCT, K_NR };
static const char *const kind_name[K_NR] = { "text", "sparse", "zero", "random", "struct" };

struct page_hdr {
	uint64_t magic;
	uint32_t index;
	uint32_t gen;
	uint32_t kind;
	uint32_t check; /* index ^ gen ^ kind ^ 0x5a5a5a5a */
};

struct record {
	uint32_t magic;
	uint32_t page;
	uint64_t counter;
	uint16_t type;
	uint16_t flags;
	uint32_t gen;
	uint64_t stamp;
};

static size_t page_size;
static uint64_t seed = 1;
static int quiet;
static uint32_t dup_patterns; /* -D: 0 = every page its own content */

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t mix3(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t s = a * 0x9e3779b97f4a7c15ULL ^ b * 0xc2b2ae3d27d4eb4fULL ^ c * 0x165667b19e3779f9ULL;

	splitmix64(&s);
	return splitmix64(&s);
}

static enum kind page_kind(uint32_t idx)
{
	if (dup_patterns) {
		/* Both members of a pair 2k, 2k+1 are of the same kind. */
		unsigned int d = (unsigned int)(mix3(seed, idx % dup_patterns / 2, 0xd00d) % 8);

		return d == 0 ? K_SPARSE : d == 1 ? K_STRUCT : K_TEXT;
	}

	unsigned int r = (unsigned int)(mix3(seed, idx, 0xfeed) % 100);

	if (r < 38)
		return K_TEXT;
	if (r < 62)
		return K_SPARSE;
	if (r < 77)
		return K_ZERO;
	if (r < 95)
		return K_RANDOM;
	return K_STRUCT;
}

static const char *const dict[] = {
	"the", "of", "and", "memory", "page", "swap", "zone", "kernel", "allocator",
	"object", "class", "pool", "handle", "compressed", "size", "free", "used",
	"map", "unmap", "lock", "spin", "read", "write", "cache", "slab", "order",
	"migrate", "compact", "fold", "zswap", "zpool", "entry", "tree", "root",
	"node", "list", "head", "tail", "count", "limit", "reclaim", "shrink", "evict",
	"writeback", "device", "block", "sector", "request", "queue", "buffer",
	"address", "offset", "length", "struct", "return", "value", "error", "retry",
	"first", "last", "next", "prev", "with", "without", "because", "therefore",
	"however", "function", "module", "driver", "system", "process", "thread",
};
#define NDICT (sizeof(dict) / sizeof(dict[0]))

/* Stock phrases: real text repeats itself, which is what LZ compressors exploit. */
static const char *const phrases[] = {
	"the allocator returns a handle for every object it stores",
	"a page of memory is compressed before it is written to swap",
	"the pool keeps one list of partially used pages per size class",
	"however the kernel may reclaim the cache when memory is low",
	"each entry in the tree points to a compressed object",
	"free the object and return the page to the system",
	"because the lock is held the function must not sleep",
	"the driver retries the request with a smaller buffer",
	"the module counts every allocation and every free",
	"compaction moves objects so that empty pages can be freed",
	"writeback sends the oldest entries to the swap device",
	"the size class is chosen from the length of the object",
	"with the limit reached the shrink function evicts entries",
	"read the value at this offset and check the error code",
	"the next node in the list holds the previous head",
	"therefore the map function returns the address of the object",
};
#define NPHRASES (sizeof(phrases) / sizeof(phrases[0]))

static void put_hdr(unsigned char *p, uint32_t idx, uint32_t gen, enum kind k)
{
	struct page_hdr h = {
		.magic = HDR_MAGIC, .index = idx, .gen = gen, .kind = (uint32_t)k,
		.check = idx ^ gen ^ (uint32_t)k ^ 0x5a5a5a5au,
	};

	memcpy(p, &h, sizeof(h));
}

/* Append the decimal form of v at p[*off], clipped to the page. */
static void put_num(unsigned char *p, size_t *off, uint64_t v, char sep)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n && *off < page_size)
		p[(*off)++] = (unsigned char)tmp[--n];
	if (*off < page_size)
		p[(*off)++] = (unsigned char)sep;
}

static void gen_text(unsigned char *p, uint64_t *rng, uint32_t idx, uint32_t gen)
{
	size_t off = sizeof(struct page_hdr);
	unsigned int words = 0;

	while (off < page_size) {
		uint64_t r = splitmix64(rng);

		if ((r & 31) == 0) {
			put_num(p, &off, idx, '.');
			put_num(p, &off, gen, ' ');
		} else if ((r & 63) == 1) {
			put_num(p, &off, r >> 48, ' ');
		} else if ((r & 7) < 2) {
			const char *w = phrases[(r >> 8) % NPHRASES];
			size_t n = strlen(w);

			if (n > page_size - off)
				n = page_size - off;
			memcpy(p + off, w, n);
			off += n;
			if (off < page_size)
				p[off++] = (r >> 16) & 1 ? '\n' : ' ';
		} else {
			/* Skewed towards the first words, as real text is. */
			const char *w = dict[((r >> 8) % NDICT) * ((r >> 24) % NDICT) / NDICT];
			size_t n = strlen(w);

			if (n > page_size - off)
				n = page_size - off;
			memcpy(p + off, w, n);
			off += n;
			if (off < page_size)
				p[off++] = ++words % 12 == 0 ? '\n' : ' ';
		}
	}
}

static void gen_sparse(unsigned char *p, uint64_t *rng)
{
	unsigned int runs = 1 + (unsigned int)(splitmix64(rng) % 4);

	memset(p + sizeof(struct page_hdr), 0, page_size - sizeof(struct page_hdr));
	for (unsigned int i = 0; i < runs; i++) {
		uint64_t r = splitmix64(rng);
		size_t len = 16 + (size_t)(r % 185);
		size_t start = sizeof(struct page_hdr) + (size_t)((r >> 16) % (page_size - sizeof(struct page_hdr) - len));

		for (size_t j = 0; j < len; j += 8) {
			uint64_t v = splitmix64(rng);
			size_t n = len - j < 8 ? len - j : 8;

			memcpy(p + start + j, &v, n);
		}
	}
}

static void gen_random(unsigned char *p, uint64_t *rng)
{
	for (size_t off = sizeof(struct page_hdr); off < page_size; off += 8) {
		uint64_t v = splitmix64(rng);

		memcpy(p + off, &v, 8);
	}
}

static void gen_struct(unsigned char *p, uint64_t *rng, uint32_t idx, uint32_t gen)
{
	size_t off = sizeof(struct page_hdr);
	uint64_t base = splitmix64(rng) & 0xffffffffULL;
	uint16_t type = (uint16_t)(splitmix64(rng) & 7);

	for (uint64_t n = 0; off + sizeof(struct record) <= page_size; n++, off += sizeof(struct record)) {
		struct record rec = {
			.magic = 0xC0FFEE00u | type, .page = idx, .counter = base + n,
			.type = type, .flags = (uint16_t)(n & 3), .gen = gen,
			.stamp = (base << 20) + n * 1000,
		};

		memcpy(p + off, &rec, sizeof(rec));
	}
	memset(p + off, 0, page_size - off);
}

/* Write the expected content of page idx at generation gen into p. */
static void gen_page(unsigned char *p, uint32_t idx, uint32_t gen)
{
	enum kind k = page_kind(idx);
	uint32_t pat = 0;

	if (dup_patterns) {
		/* The content of pattern pair idx % D / 2; the odd one of the pair flips its last byte. */
		pat = idx % dup_patterns;
		idx = pat / 2;
	}

	uint64_t rng = mix3(seed, idx, gen);

	if (k == K_ZERO) {
		memset(p, 0, page_size);
		return;
	}
	put_hdr(p, idx, gen, k);
	switch (k) {
	case K_TEXT:
		gen_text(p, &rng, idx, gen);
		break;
	case K_SPARSE:
		gen_sparse(p, &rng);
		break;
	case K_RANDOM:
		gen_random(p, &rng);
		break;
	case K_STRUCT:
		gen_struct(p, &rng, idx, gen);
		break;
	default:
		break;
	}
	if (pat & 1)
		p[page_size - 1] ^= 0x5a;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* -P: park after the fill until the guest says go (it folds meanwhile). */
static void pause_point(const char *path)
{
	char name[256];
	FILE *f;
	double t0 = now();

	snprintf(name, sizeof(name), "%s.paused", path);
	f = fopen(name, "w");
	if (!f) {
		fprintf(stderr, "workload: cannot create %s: %s\n", name, strerror(errno));
		return;
	}
	fclose(f);
	printf("WORKLOAD-PAUSE waiting for %s.go\n", path);
	fflush(stdout);
	snprintf(name, sizeof(name), "%s.go", path);
	while (access(name, F_OK) && now() - t0 < 300)
		usleep(50000);
	printf("WORKLOAD-RESUME after %.1fs%s\n", now() - t0, access(name, F_OK) ? " (timed out)" : "");
	fflush(stdout);
}

static unsigned char *area;
static uint8_t *page_gen;   /* current generation of every page */
static uint8_t *page_bad;   /* page failed at least one check */
static unsigned char *expect, *scratch;
static uint64_t npages, mismatches, reports;

static unsigned char *page_at(uint64_t i)
{
	return area + i * page_size;
}

static int is_zero(const unsigned char *p)
{
	for (size_t i = 0; i < page_size; i++)
		if (p[i])
			return 0;
	return 1;
}

/* Describe what a wrong page holds instead of the expected content. */
enum bad_kind { B_ZEROS, B_OLDER, B_OTHER, B_GARBAGE, B_NR };
static uint64_t bad_kinds[B_NR]; /* pages by what they held at their first failed check */

static enum bad_kind describe(const unsigned char *got, uint32_t idx, uint32_t gen, char *buf, size_t len)
{
	struct page_hdr h;

	if (is_zero(got)) {
		snprintf(buf, len, "all-zeros");
		return B_ZEROS;
	}
	for (uint32_t g = gen; g-- > 1;) {
		gen_page(scratch, idx, g);
		if (!memcmp(scratch, got, page_size)) {
			snprintf(buf, len, "older-generation(gen=%u)", g);
			return B_OLDER;
		}
	}
	memcpy(&h, got, sizeof(h));
	if (h.magic == HDR_MAGIC && h.check == (h.index ^ h.gen ^ h.kind ^ 0x5a5a5a5au)) {
		if (dup_patterns) {
			/* -D: the header names a pattern pair, the last byte which of the two. */
			snprintf(buf, len, "pattern-pair(pair=%u,gen=%u,kind=%s)", h.index, h.gen,
				 h.kind < K_NR ? kind_name[h.kind] : "?");
			return B_OTHER;
		}
		if (h.index < npages && h.gen >= 1) {
			gen_page(scratch, h.index, h.gen);
			snprintf(buf, len, "other-page(index=%u,gen=%u,kind=%s,%s)", h.index, h.gen,
				 h.kind < K_NR ? kind_name[h.kind] : "?",
				 memcmp(scratch, got, page_size) ? "corrupt" : "intact");
			return B_OTHER;
		}
		snprintf(buf, len, "header(index=%u,gen=%u)", h.index, h.gen);
		return B_OTHER;
	}
	snprintf(buf, len, "garbage");
	return B_GARBAGE;
}

static void check_page(uint64_t i, const char *pass)
{
	const unsigned char *got = page_at(i);
	uint32_t gen = page_gen[i];

	gen_page(expect, (uint32_t)i, gen);
	if (!memcmp(expect, got, page_size))
		return;

	mismatches++;
	if (page_bad[i] && reports >= MAX_REPORTS)
		return;

	char what[160];
	enum bad_kind b = describe(got, (uint32_t)i, gen, what, sizeof(what));

	if (!page_bad[i])
		bad_kinds[b]++;
	page_bad[i] = 1;
	if (reports++ < MAX_REPORTS) {
		size_t off = 0, nbad = 0;

		while (off < page_size && expect[off] == got[off])
			off++;
		for (size_t j = 0; j < page_size; j++)
			nbad += expect[j] != got[j];
		printf("MISMATCH pass=%s page=%llu kind=%s gen=%u first_bad_offset=%zu bad_bytes=%zu got=%s\n",
		       pass, (unsigned long long)i, kind_name[page_kind((uint32_t)i)], gen, off, nbad, what);
		fflush(stdout);
	}
}

static void progress(const char *phase, uint64_t done, double t0)
{
	if (quiet && done != npages)
		return;
	printf("workload: %-16s %3llu%% (%llu/%llu pages, %.1fs)\n", phase,
	       (unsigned long long)(done * 100 / npages), (unsigned long long)done,
	       (unsigned long long)npages, now() - t0);
	fflush(stdout);
}

/* Run fn over the pages in the given order, printing progress every ~25%. */
static void run_pass(const char *phase, const uint32_t *order, int fill)
{
	uint64_t step = npages / 4 ? npages / 4 : 1;
	double t0 = now();
	uint64_t before = mismatches;

	for (uint64_t n = 0; n < npages; n++) {
		uint64_t i = order ? order[n] : n;

		if (fill)
			gen_page(page_at(i), (uint32_t)i, page_gen[i]);
		else
			check_page(i, phase);
		if ((n + 1) % step == 0 && n + 1 < npages)
			progress(phase, n + 1, t0);
	}
	progress(phase, npages, t0);
	if (!fill && mismatches != before)
		printf("workload: %s: %llu mismatching pages\n", phase,
		       (unsigned long long)(mismatches - before));
}

static void shuffle(uint32_t *order, uint64_t salt)
{
	uint64_t rng = mix3(seed, salt, 0x5eed);

	for (uint64_t i = 0; i < npages; i++)
		order[i] = (uint32_t)i;
	for (uint64_t i = npages - 1; i > 0; i--) {
		uint64_t j = splitmix64(&rng) % (i + 1);
		uint32_t t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
}

/*
 * Self-test (-C): make one rewritten page read as its older generation, one
 * non-zero page read as zeros and one page hold a copy of another page.
 */
static void inject_corruption(void)
{
	int done_old = 0, done_zero = 0, done_copy = 0;

	for (uint64_t i = 0; i + 1 < npages && !(done_old && done_zero && done_copy); i++) {
		enum kind k = page_kind((uint32_t)i);

		if (!done_old && page_gen[i] >= 2 && k != K_ZERO) {
			gen_page(page_at(i), (uint32_t)i, page_gen[i] - 1);
			done_old = 1;
		} else if (!done_zero && k != K_ZERO) {
			memset(page_at(i), 0, page_size);
			done_zero = 1;
		} else if (!done_copy && page_kind((uint32_t)i + 1) != K_ZERO) {
			memcpy(page_at(i), page_at(i + 1), page_size);
			done_copy = 1;
		}
	}
	printf("workload: self-test corrupted 3 pages\n");
}

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [-s SEED] [-g ROUNDS] [-r PERCENT] [-q] [-o DUMP] [-C] [-L] [-D PATTERNS] [-P PATH] PAGES\n",
		argv0);
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned int rewrite_pct = 30, rounds = 2;
	uint64_t kinds[K_NR] = { 0 }, verified = 0;
	uint32_t *order;
	double t_start = now();
	const char *dump = NULL, *pause_path = NULL;
	int opt, corrupt = 0, lock = 0;

	while ((opt = getopt(argc, argv, "s:g:r:qo:CLD:P:h")) != -1) {
		switch (opt) {
		case 'g':
			rounds = (unsigned int)strtoul(optarg, NULL, 0);
			if (rounds > 250)
				usage(argv[0]);
			break;
		case 'o':
			dump = optarg;
			break;
		case 'C':
			corrupt = 1;
			break;
		case 'L':
			lock = 1;
			break;
		case 'D':
			dup_patterns = (uint32_t)strtoul(optarg, NULL, 0);
			if (dup_patterns < 2)
				usage(argv[0]);
			break;
		case 'P':
			pause_path = optarg;
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'r':
			rewrite_pct = (unsigned int)strtoul(optarg, NULL, 0);
			if (rewrite_pct > 100)
				usage(argv[0]);
			break;
		case 'q':
			quiet = 1;
			break;
		default:
			usage(argv[0]);
		}
	}
	if (optind != argc - 1)
		usage(argv[0]);
	npages = strtoull(argv[optind], NULL, 0);
	if (npages == 0 || npages > UINT32_MAX)
		usage(argv[0]);

	page_size = (size_t)sysconf(_SC_PAGESIZE);
	page_gen = calloc(npages, 1);
	page_bad = calloc(npages, 1);
	order = calloc(npages, sizeof(*order));
	expect = malloc(page_size);
	scratch = malloc(page_size);
	/* Everything mapped so far (not the test area, mapped next) stays in memory. */
	if (lock && mlockall(MCL_CURRENT))
		fprintf(stderr, "workload: warning: mlockall: %s (own memory can be swapped)\n", strerror(errno));
	area = mmap(NULL, npages * page_size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (area == MAP_FAILED || !page_gen || !page_bad || !order || !expect || !scratch) {
		fprintf(stderr, "workload: cannot allocate %llu pages: %s\n",
			(unsigned long long)npages, strerror(errno));
		return 2;
	}
	/* Keep the anonymous area out of transparent huge pages: 4 KiB swap entries. */
	madvise(area, npages * page_size, MADV_NOHUGEPAGE);

	for (uint64_t i = 0; i < npages; i++) {
		page_gen[i] = 1;
		kinds[page_kind((uint32_t)i)]++;
	}
	if (dup_patterns)
		printf("workload: %u patterns, each on about %llu pages\n", dup_patterns,
		       (unsigned long long)(npages / dup_patterns));
	printf("workload: pages=%llu (%llu MiB) seed=%llu%s text=%llu sparse=%llu zero=%llu random=%llu struct=%llu\n",
	       (unsigned long long)npages, (unsigned long long)(npages * page_size >> 20),
	       (unsigned long long)seed, lock ? " locked" : "", (unsigned long long)kinds[K_TEXT],
	       (unsigned long long)kinds[K_SPARSE], (unsigned long long)kinds[K_ZERO],
	       (unsigned long long)kinds[K_RANDOM], (unsigned long long)kinds[K_STRUCT]);
	fflush(stdout);

	run_pass("fill", NULL, 1);
	if (dump) {
		FILE *f = fopen(dump, "wb");

		if (!f || fwrite(area, page_size, npages, f) != npages || fclose(f)) {
			fprintf(stderr, "workload: cannot write %s: %s\n", dump, strerror(errno));
			return 2;
		}
	}
	if (pause_path)
		pause_point(pause_path);
	run_pass("verify-seq", NULL, 0);
	for (uint64_t n = 0; n < npages; n++)
		order[n] = (uint32_t)(npages - 1 - n);
	run_pass("verify-reverse", order, 0);
	shuffle(order, 1);
	run_pass("verify-random", order, 0);

	for (unsigned int r = 0; r < rounds; r++) {
		uint8_t gen = (uint8_t)(r + 2);
		uint64_t rewritten = 0, discarded = 0;
		double t0 = now();
		char name[32];

		shuffle(order, 10 + r);
		for (uint64_t n = 0; n < npages; n++) {
			uint32_t i = order[n];
			uint64_t h = mix3(seed, i, 0xbeef + r);

			if (h % 100 >= rewrite_pct)
				continue;
			if ((h >> 32) & 1) {
				if (madvise(page_at(i), page_size, MADV_DONTNEED)) {
					fprintf(stderr, "workload: madvise(DONTNEED): %s\n", strerror(errno));
					return 2;
				}
				discarded++;
			}
			page_gen[i] = gen;
			gen_page(page_at(i), i, gen);
			rewritten++;
		}
		printf("workload: rewrote %llu pages as gen %u (%llu discarded first) in %.1fs\n",
		       (unsigned long long)rewritten, gen, (unsigned long long)discarded, now() - t0);
		fflush(stdout);
		if (corrupt && r == 0)
			inject_corruption();
		snprintf(name, sizeof(name), "verify%u-random", gen);
		shuffle(order, 20 + r);
		run_pass(name, order, 0);
	}
	run_pass("verify-final-seq", NULL, 0);

	for (uint64_t i = 0; i < npages; i++)
		verified += !page_bad[i];
	printf("workload: done in %.1fs\n", now() - t_start);
	printf("WORKLOAD-BAD pages=%llu zeros=%llu older=%llu other=%llu garbage=%llu\n",
	       (unsigned long long)(npages - verified), (unsigned long long)bad_kinds[B_ZEROS],
	       (unsigned long long)bad_kinds[B_OLDER], (unsigned long long)bad_kinds[B_OTHER],
	       (unsigned long long)bad_kinds[B_GARBAGE]);
	printf("WORKLOAD pages=%llu verified=%llu mismatches=%llu\n", (unsigned long long)npages,
	       (unsigned long long)verified, (unsigned long long)mismatches);
	fflush(stdout);
	return mismatches || verified != npages ? 1 : 0;
}
