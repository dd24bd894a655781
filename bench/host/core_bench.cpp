// SPDX-License-Identifier: GPL-2.0
// bench/host/core_bench.cpp: the zspp core's hot paths in userspace, over the
// fake shim of tests/host, for callgrind (make -C bench/host profile). The same
// object stream as zspp_bench.ko (sizes from bench/data/lzo-sizes.csv, seeded);
// each phase is one callgrind dump (malloc+write with both APIs, reads with
// both APIs, frees) so instructions and out-of-line shim calls per operation
// can be counted. Every object is verified (exit 1 on a mismatch).
//   core_bench HIST_CSV NOBJ CHAIN
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <valgrind/callgrind.h>

#include "fake_shim.h"
#include <zspp/zspp.h>

// Instrumentation off outside the phases (valgrind --instr-atstart=no): with
// only collection toggled, callgrind still counts the calls made in between.
#define PHASE_BEGIN()                          \
	do {                                   \
		CALLGRIND_START_INSTRUMENTATION; \
		CALLGRIND_ZERO_STATS;          \
	} while (0)
#define PHASE_END(name)                        \
	do {                                   \
		CALLGRIND_DUMP_STATS_AT(name); \
		CALLGRIND_STOP_INSTRUMENTATION;  \
	} while (0)

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s HIST_CSV NOBJ CHAIN\n", argv[0]);
		return 2;
	}
	std::vector<unsigned> hsize, hcum;
	unsigned total = 0;
	FILE *f = fopen(argv[1], "r");
	if (!f)
		return 2;
	char line[256], cat[64];
	std::vector<unsigned> count(4097);
	while (fgets(line, sizeof(line), f)) {
		unsigned s, c;
		if (line[0] != '#' && sscanf(line, "%63[^,],%u,%u", cat, &s, &c) == 3 && s && s <= 4096)
			count[s] += c;
	}
	fclose(f);
	for (unsigned s = 1; s <= 4096; s++)
		if (count[s]) {
			total += count[s];
			hsize.push_back(s);
			hcum.push_back(total);
		}
	unsigned n = atoi(argv[2]), chain = atoi(argv[3]);
	std::vector<unsigned> sizes(n);
	std::vector<unsigned long> h(n);
	uint64_t st = 0x2545f4914f6cdd1dULL;
	for (auto &s : sizes) {
		st = mix64(st);
		unsigned r = st % total, lo = 0, hi = hsize.size() - 1;
		while (lo < hi) {
			unsigned mid = (lo + hi) / 2;
			if (hcum[mid] > r)
				hi = mid;
			else
				lo = mid + 1;
		}
		s = hsize[lo];
	}
	std::vector<unsigned char> src(1 << 21);
	for (size_t i = 0; i < src.size() / 8; i++) {
		st = mix64(st);
		memcpy(&src[i * 8], &st, 8);
	}
	auto content = [&](unsigned i) { return &src[(mix64(i) % (1 << 20)) & ~7ULL]; };
	std::vector<unsigned> order(n);
	for (unsigned i = 0; i < n; i++)
		order[i] = i;
	for (unsigned i = n - 1; i > 0; i--) {
		st = mix64(st);
		std::swap(order[i], order[st % (i + 1)]);
	}
	fake::set_quiet(true);
	if (zspp_core_init("zspp_handle"))
		return 2;
	static unsigned char buf[4096], local[4096];
	long bad = 0;
	for (int api = 0; api < 2; api++) {
		zspp_pool *pool;
		if (zspp_create_pool("bench", chain, &pool))
			return 2;
		PHASE_BEGIN();
		for (unsigned i = 0; i < n; i++) {
			if (zspp_malloc(pool, sizes[i], FAKE_GFP_ZSWAP, &h[i]))
				return 3;
			if (api == 0) {
				void *d = zspp_map_object(pool, h[i], ZSPP_MM_WO);
				memcpy(d, content(i), sizes[i]);
				zspp_unmap_object(pool, h[i]);
			} else {
				zspp_obj_write(pool, h[i], content(i), sizes[i]);
			}
		}
		PHASE_END(api ? "malloc-rw" : "malloc-map");
		PHASE_BEGIN();
		for (unsigned k = 0; k < n; k++) {
			unsigned i = order[k];
			if (api == 0) {
				void *s = zspp_map_object(pool, h[i], ZSPP_MM_RO);
				memcpy(buf, s, sizes[i]);
				zspp_unmap_object(pool, h[i]);
			} else {
				void *s = zspp_obj_read_begin(pool, h[i], local);
				memcpy(buf, s, sizes[i]);
				zspp_obj_read_end(pool, h[i], s);
			}
		}
		PHASE_END(api ? "read-rw" : "read-map");
		for (unsigned i = 0; i < n; i++) {
			void *s = zspp_obj_read_begin(pool, h[i], local);
			bad += memcmp(s, content(i), sizes[i]) != 0;
			zspp_obj_read_end(pool, h[i], s);
		}
		PHASE_BEGIN();
		for (unsigned k = 0; k < n; k++)
			zspp_free(pool, h[order[n - 1 - k]]);
		PHASE_END(api ? "free-rw" : "free-map");
		zspp_destroy_pool(pool);
	}
	zspp_core_exit();
	printf("core_bench: n=%u chain=%u mismatches=%ld\n", n, chain, bad);
	return bad ? 1 : 0;
}
