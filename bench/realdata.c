// SPDX-License-Identifier: GPL-2.0
/*
 * bench/realdata.c: the real-data end to end of `make bench` (scripts/bench.sh,
 * guest side bench/realdata-init.sh). Pages of real files (bench/mkrealdata.sh
 * packs them into one blob, every file starting on a page boundary) go into
 * anonymous memory of a memory cgroup, are pushed out through zswap with the
 * cgroup's memory.reclaim (deterministic: no timing under a limit decides
 * which pages go), read back and compared byte for byte with the blob, then:
 * free half (munmap every other 256 KiB chunk), store more (the next part of
 * the blob), push out, compact (the snapshot helper's "compact": the
 * shrinkers, i.e. zs_compact / zspp_compact), measure, verify everything left.
 *
 * Build: gcc -static -O2 -o realdata realdata.c
 * Usage: realdata BLOB BYTES_A BYTES_B CGROUP_DIR SNAP_CMD
 *   BYTES_A (fill) and BYTES_B (stored after the churn) are multiples of 4096,
 *   A + B + 4096 <= the blob's size. SNAP_CMD TAG is run (system()) at every
 *   measuring point: fill, verified, churn, end; "SNAP_CMD flush" drains the
 *   swap slot caches and "SNAP_CMD compact" compacts.
 * Output: RD-PHASE lines, and last
 *   RD-RESULT pages_a= pages_b= checked= verified= mismatches=
 * Exit status 0 only when every page checked matched.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL
#define CHUNK (64 * PAGE) /* churn granularity: every other chunk of A is freed */

static int blob_fd;
static const char *cg, *snap_cmd;
static unsigned long checked, verified, mismatches;
static char buf[CHUNK];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "RD-ERROR %s: %s\n", what, strerror(errno));
	exit(2);
}

static void snap(const char *tag)
{
	char cmd[512];

	fflush(stdout);
	snprintf(cmd, sizeof(cmd), "%s %s", snap_cmd, tag);
	if (system(cmd) != 0)
		fprintf(stderr, "RD-ERROR snapshot '%s' failed\n", tag);
	fflush(stdout);
}

static unsigned long memstat(const char *key)
{
	char path[256], k[64];
	unsigned long v, res = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/memory.stat", cg);
	f = fopen(path, "r");
	if (!f)
		die("memory.stat");
	while (fscanf(f, "%63s %lu", k, &v) == 2)
		if (!strcmp(k, key))
			res = v;
	fclose(f);
	return res;
}

/*
 * Push the cgroup's anonymous memory out with memory.reclaim until under 1 MiB
 * (always at least one round: the extra page must go out even when the rest
 * is already under that).
 */
static void reclaim(const char *what)
{
	char path[256], req[32];
	double t0 = now();
	int i, fd;

	snprintf(path, sizeof(path), "%s/memory.reclaim", cg);
	for (i = 0; i < 50 && (i == 0 || memstat("anon") > (1UL << 20)); i++) {
		fd = open(path, O_WRONLY);
		if (fd < 0)
			die("open memory.reclaim");
		snprintf(req, sizeof(req), "%lu", memstat("anon") + (4UL << 20));
		/* EAGAIN: not all of it reclaimed this time; try again. */
		if (write(fd, req, strlen(req)) < 0 && errno != EAGAIN)
			die("write memory.reclaim");
		close(fd);
	}
	printf("RD-PHASE reclaim %s rounds=%d anon_left=%lu secs=%.2f\n", what, i, memstat("anon"), now() - t0);
}

static void load(char *dst, unsigned long off, unsigned long len)
{
	unsigned long done = 0;

	while (done < len) {
		ssize_t n = pread(blob_fd, dst + done, len - done, off + done);

		if (n <= 0)
			die("read blob");
		done += n;
	}
}

/* Compare [p, p + len) with the blob at @off, page by page. */
static void verify(const char *p, unsigned long off, unsigned long len)
{
	unsigned long k, pg;

	for (k = 0; k < len; k += CHUNK) {
		unsigned long n = len - k < CHUNK ? len - k : CHUNK;

		load(buf, off + k, n);
		for (pg = 0; pg < n; pg += PAGE) {
			checked++;
			if (memcmp(buf + pg, p + k + pg, PAGE)) {
				if (mismatches < 10)
					printf("RD-BAD offset=%lu\n", off + k + pg);
				mismatches++;
			} else {
				verified++;
			}
		}
	}
}

int main(int argc, char **argv)
{
	unsigned long a, b, k, nchunks;
	char *ra, *rb, *extra;
	double t0;

	if (argc != 6) {
		fprintf(stderr, "usage: realdata BLOB BYTES_A BYTES_B CGROUP_DIR SNAP_CMD\n");
		return 2;
	}
	a = strtoul(argv[2], NULL, 0);
	b = strtoul(argv[3], NULL, 0);
	cg = argv[4];
	snap_cmd = argv[5];
	if (!a || a % CHUNK || b % PAGE) {
		fprintf(stderr, "RD-ERROR sizes must be multiples of %lu (A) and %lu (B)\n", CHUNK, PAGE);
		return 2;
	}
	blob_fd = open(argv[1], O_RDONLY);
	if (blob_fd < 0)
		die("open blob");
	if ((unsigned long)lseek(blob_fd, 0, SEEK_END) < a + b + PAGE) {
		fprintf(stderr, "RD-ERROR blob smaller than A + B + 4096\n");
		return 2;
	}
	ra = mmap(NULL, a, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	rb = mmap(NULL, b ? b : PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	extra = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ra == MAP_FAILED || rb == MAP_FAILED || extra == MAP_FAILED)
		die("mmap");
	/* Keep them apart from neighbouring mappings' THP and readahead. */
	madvise(ra, a, MADV_NOHUGEPAGE);
	madvise(rb, b ? b : PAGE, MADV_NOHUGEPAGE);

	t0 = now();
	load(ra, 0, a);
	printf("RD-PHASE fill pages=%lu secs=%.2f\n", a / PAGE, now() - t0);
	reclaim("fill");
	snap("fill");

	t0 = now();
	verify(ra, 0, a);
	printf("RD-PHASE verify-fill checked=%lu mismatches=%lu secs=%.2f\n", checked, mismatches, now() - t0);
	reclaim("verified");
	snap("verified");

	/* Churn: free every other chunk of A (their zswap objects are freed), store B. */
	nchunks = a / CHUNK;
	for (k = 0; k < nchunks; k += 2)
		if (munmap(ra + k * CHUNK, CHUNK))
			die("munmap");
	snap("flush");
	t0 = now();
	if (b)
		load(rb, a, b);
	printf("RD-PHASE store-more pages=%lu freed_pages=%lu secs=%.2f\n", b / PAGE, (nchunks + 1) / 2 * CHUNK / PAGE,
	       now() - t0);
	reclaim("more");
	snap("compact");
	/* One more page through zswap: 6.1 zswap updates pool_total_size only on a store or a free. */
	load(extra, a + b, PAGE);
	reclaim("extra");
	snap("churn");

	t0 = now();
	for (k = 1; k < nchunks; k += 2)
		verify(ra + k * CHUNK, k * CHUNK, CHUNK);
	if (b)
		verify(rb, a, b);
	verify(extra, a + b, PAGE);
	printf("RD-PHASE verify-churn checked=%lu mismatches=%lu secs=%.2f\n", checked, mismatches, now() - t0);
	snap("end");
	printf("RD-RESULT pages_a=%lu pages_b=%lu checked=%lu verified=%lu mismatches=%lu\n", a / PAGE, b / PAGE,
	       checked, verified, mismatches);
	return mismatches || verified != checked ? 1 : 0;
}
