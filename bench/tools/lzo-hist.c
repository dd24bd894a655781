// SPDX-License-Identifier: GPL-2.0
/*
 * lzo-hist: the compressed-size histogram of real 4 KiB pages, compressed the
 * way 6.1 zswap does (LZO1X-1, the kernel's "lzo" crypto compressor; liblzo2's
 * lzo1x_1_compress is the algorithm the kernel's lib/lzo was imported from).
 *
 * Usage: lzo-hist -s SEED -n PAGES -c CATEGORY < file-list
 *   Reads file paths (one a line), treats every full 4 KiB page of every file
 *   as a candidate and picks PAGES of them uniformly at random (seeded
 *   xorshift64*, with replacement), compresses each, and prints
 *     CATEGORY,SIZE,COUNT          one line per compressed size seen
 *     #stat CATEGORY key=value ..  candidates, sampled, same-filled, too big
 *   Same-filled pages (one repeated 8-byte word: zswap stores them without
 *   the zpool) and pages whose compressed size exceeds 4088 bytes (what
 *   zs_malloc accepts with its 8-byte handle header; 6.1 zswap rejects them)
 *   are counted but not put in the histogram.
 */
#include <lzo/lzo1x.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>

#define PAGE 4096
#define MAX_OBJ 4088

static uint64_t rng;
static uint64_t next_rand(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

int main(int argc, char **argv)
{
	uint64_t seed = 1, want = 1000;
	const char *cat = "data";
	int opt;
	while ((opt = getopt(argc, argv, "s:n:c:")) != -1) {
		switch (opt) {
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'n': want = strtoull(optarg, NULL, 0); break;
		case 'c': cat = optarg; break;
		default: fprintf(stderr, "usage: %s -s SEED -n PAGES -c CATEGORY < files\n", argv[0]); return 2;
		}
	}
	rng = seed * 0x9e3779b97f4a7c15ULL + 1;
	if (lzo_init() != LZO_E_OK) { fprintf(stderr, "lzo_init failed\n"); return 1; }

	size_t nf = 0, cap = 0;
	char **files = NULL;
	uint64_t *cum = NULL, total = 0;
	char line[4096];
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = 0;
		struct stat st;
		if (!line[0] || stat(line, &st) || !S_ISREG(st.st_mode) || st.st_size < PAGE)
			continue;
		if (nf == cap) {
			cap = cap ? 2 * cap : 1024;
			files = realloc(files, cap * sizeof(*files));
			cum = realloc(cum, cap * sizeof(*cum));
		}
		files[nf] = strdup(line);
		total += (uint64_t)st.st_size / PAGE;
		cum[nf++] = total;
	}
	if (!total) { fprintf(stderr, "%s: no file with a full page\n", cat); return 1; }

	static uint64_t hist[2 * PAGE + 1024];
	static unsigned char in[PAGE], out[PAGE + PAGE / 16 + 64 + 3];
	static lzo_align_t wrk[(LZO1X_1_MEM_COMPRESS + sizeof(lzo_align_t) - 1) / sizeof(lzo_align_t)];
	uint64_t same = 0, big = 0, stored = 0, bytes = 0;
	for (uint64_t k = 0; k < want; k++) {
		uint64_t p = next_rand() % total;
		size_t lo = 0, hi = nf - 1;
		while (lo < hi) { size_t mid = (lo + hi) / 2; if (cum[mid] > p) hi = mid; else lo = mid + 1; }
		uint64_t page = p - (lo ? cum[lo - 1] : 0);
		int fd = open(files[lo], O_RDONLY);
		if (fd < 0 || pread(fd, in, PAGE, (off_t)(page * PAGE)) != PAGE) {
			fprintf(stderr, "%s: cannot read %s page %llu\n", cat, files[lo], (unsigned long long)page);
			return 1;
		}
		close(fd);
		uint64_t w0;
		memcpy(&w0, in, 8);
		int sf = 1;
		for (int i = 8; i < PAGE && sf; i += 8) { uint64_t w; memcpy(&w, in + i, 8); sf = w == w0; }
		if (sf) { same++; continue; }
		lzo_uint olen = sizeof(out);
		if (lzo1x_1_compress(in, PAGE, out, &olen, wrk) != LZO_E_OK) { fprintf(stderr, "compress failed\n"); return 1; }
		if (olen > MAX_OBJ) { big++; continue; }
		hist[olen]++;
		stored++;
		bytes += olen;
	}
	for (size_t s = 0; s < sizeof(hist) / sizeof(hist[0]); s++)
		if (hist[s])
			printf("%s,%zu,%llu\n", cat, s, (unsigned long long)hist[s]);
	printf("#stat %s files=%zu candidate_pages=%llu sampled=%llu same_filled=%llu too_big=%llu stored=%llu mean_size=%.1f\n",
	       cat, nf, (unsigned long long)total, (unsigned long long)want, (unsigned long long)same,
	       (unsigned long long)big, (unsigned long long)stored, stored ? (double)bytes / stored : 0.0);
	return 0;
}
