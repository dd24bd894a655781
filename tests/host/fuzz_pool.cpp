// SPDX-License-Identifier: GPL-2.0
// libFuzzer target: the input is a sequence of pool operations applied to
// zspp (over the fake shim) and to a reference model; any mismatch, failed
// validate, unexpected return code, leak or shim-contract violation aborts.
//
//   byte 0          chain size (1..16)
//   then, repeated  an opcode byte and its operands (see step())
//
// ZSPP_FUZZ_MAKE_SEEDS=DIR ./fuzz_pool -runs=0   writes a seed corpus to DIR.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <zspp/zspp.h>

#include "fake_shim.h"
#include "ref_model.h"

namespace {

[[noreturn]] void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "FUZZ MISMATCH: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}

#define CHECK(cond, ...)                     \
	do {                                 \
		if (!(cond))                 \
			fail(__VA_ARGS__);   \
	} while (0)

using refmodel::RefModel;
using Ref = refmodel::RefObj;

enum Op : uint8_t {
	kMalloc,
	kFree,
	kWrite,
	kReadBegin,
	kMap,
	kInject,
	kCompact,
	kValidate,
	kBadFree,
	kObjSize,
	kShrink,
	kNestedRead,
	kMigrate,
	kDeferredFree,
	kReclaim,
	kDup,  // a new object with an existing object's bytes (what folding finds)
	kFold, // CONFIG_ZSPP_FOLD builds: a fold pass
	kNumOps,
};

class Session {
	bool evictable_ = false;
	bool in_reclaim_ = false;
	unsigned long evicts_ = 0;

public:
	explicit Session(FuzzedDataProvider &in) : in_(in) {}

	void run()
	{
		base_ = fake::live();
		const unsigned long violations = fake::violations();
		unsigned chain = 1 + in_.ConsumeIntegral<uint8_t>() % ZSPP_MAX_CHAIN;
		evictable_ = in_.ConsumeBool();
		if (evictable_)
			CHECK(zspp_create_pool_evictable("fuzz", chain, &Session::evict_thunk, this, &pool_) == 0,
			      "create_pool_evictable(%u)", chain);
		else
			CHECK(zspp_create_pool("fuzz", chain, &pool_) == 0, "create_pool(%u)", chain);
		for (int n = 0; n < 4000 && in_.remaining_bytes() > 0; n++)
			step();
		fake::fail_off();
		check_validate("end");
		for (auto &[h, r] : ref_)
			check_read(h, r, n_ops_ % 3);
		for (auto &[h, r] : ref_)
			zspp_free(pool_, h);
		ref_.clear();
		check_validate("after freeing everything");
		CHECK(zspp_get_total_pages(pool_) == 0, "pages left: %lu", zspp_get_total_pages(pool_));
		zspp_destroy_pool(pool_);
		CHECK(fake::live() == base_, "leak: %s vs %s", fake::to_string(fake::live()).c_str(),
		      fake::to_string(base_).c_str());
		CHECK(fake::violations() == violations, "shim contract violation: %s", fake::last_violation().c_str());
		CHECK(fake::locks_held() == 0, "lock held at the end");
	}

private:
	// zswap 6.1's writeback (zswap_writeback_entry), in its order: map the
	// handle, then look the entry up; with the input choosing the outcome:
	// write the object back (compare, free while mapped, unmap), fail,
	// "succeed" without freeing, or an invalidation first: of some other
	// object (deferred if it is in the zspage under reclaim), of this very
	// handle before the map, or of it between the map and the lookup. An
	// invalidated handle must still map, with its bytes; the lookup then
	// finds no entry: unmap, return 0.
	static int evict_thunk(void *ctx, unsigned long h) { return static_cast<Session *>(ctx)->evict(h); }
	int evict(unsigned long h)
	{
		CHECK(in_reclaim_, "evict outside zspp_reclaim");
		CHECK(ref_.count(h), "evict of a handle that is not live (%#lx, op %lu)", h, n_ops_);
		CHECK(fake::locks_held() == 0, "evict called with a lock held");
		evicts_++;
		const Ref r = ref_[h];
		bool free_after_map = false;
		switch (in_.ConsumeIntegral<uint8_t>() % 10) {
		case 0:
			return -17; // -EEXIST: already in the swap cache
		case 1:
			return 0;   // kept: must not count as freed
		case 2: {
			unsigned long o = pick();
			zspp_free(pool_, o);
			ref_.erase(o);
			break;
		}
		case 3:
			zspp_free(pool_, h); // invalidated before evict maps it
			ref_.erase(h);
			break;
		case 4:
			free_after_map = true;
			break;
		default:
			break;
		}
		auto *p = static_cast<uint8_t *>(zspp_map_object(pool_, h, ZSPP_MM_RO));
		CHECK(p, "evict: map of the evicted handle failed (6.1 zswap dereferences it)");
		CHECK(r.diff(p) == -1, "evict: content mismatch (op %lu)", n_ops_);
		if (free_after_map) {
			zspp_free(pool_, h);
			ref_.erase(h);
		}
		if (!ref_.count(h)) {
			// "entry was invalidated": a second free is caught, not done.
			unsigned long warns = fake::bad_handle_warnings();
			if (in_.ConsumeBool()) {
				zspp_free(pool_, h);
				CHECK(fake::bad_handle_warnings() == warns + 1, "double free of a deferred handle not caught");
				bad_++;
			}
			zspp_unmap_object(pool_, h);
			return 0;
		}
		zspp_free(pool_, h);
		ref_.erase(h);
		zspp_unmap_object(pool_, h);
		return 0;
	}

	unsigned long pick() { return ref_.nth(in_.ConsumeIntegralInRange<size_t>(0, ref_.size() - 1)); }

	std::vector<uint8_t> bytes(size_t n)
	{
		// Content from a seed in the input, not the input itself (keeps inputs short).
		uint32_t x = in_.ConsumeIntegral<uint32_t>() | 1;
		std::vector<uint8_t> v(n);
		for (size_t i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			v[i] = uint8_t(x);
		}
		return v;
	}

	void check_validate(const char *when)
	{
		CHECK(zspp_debug_validate(pool_) == 0, "validate failed (%s, op %lu)", when, n_ops_);
		struct zspp_pool_stats s;
		zspp_pool_stats(pool_, &s);
		size_t stored = ref_.bytes_stored();
		CHECK(s.objects == ref_.size(), "objects %lu != %zu", s.objects, ref_.size());
		CHECK(s.bytes_stored == stored, "bytes_stored %lu != %zu", s.bytes_stored, stored);
		CHECK(s.malloc_fail == enomem_, "malloc_fail %lu != %lu", s.malloc_fail, enomem_);
		CHECK(s.bad_handles == bad_, "bad_handles %lu != %lu", s.bad_handles, bad_);
		CHECK(zspp_get_total_pages(pool_) == s.pages, "total pages");
	}

	void check_read(unsigned long h, const Ref &r, unsigned how)
	{
		CHECK(zspp_obj_size(pool_, h) == r.size, "obj_size %zu != %zu", zspp_obj_size(pool_, h), r.size);
		std::vector<uint8_t> local(r.size);
		const uint8_t *p;
		if (how % 2 == 0) {
			p = static_cast<uint8_t *>(zspp_obj_read_begin(pool_, h, local.data()));
		} else {
			p = static_cast<uint8_t *>(zspp_map_object(pool_, h, ZSPP_MM_RO));
		}
		CHECK(p, "read of a live handle returned NULL");
		CHECK(fake::locks_held() == 0, "lock held after map/read_begin");
		CHECK(r.diff(p) == -1, "content mismatch (size %zu, %s, op %lu)", r.size, how % 2 ? "map RO" : "read_begin",
		      n_ops_);
		if (how % 2 == 0)
			zspp_obj_read_end(pool_, h, const_cast<uint8_t *>(p));
		else
			zspp_unmap_object(pool_, h);
	}

	void step()
	{
		n_ops_++;
		switch (in_.ConsumeIntegral<uint8_t>() % kNumOps) {
		case kMalloc: {
			// Mostly valid sizes; 0 and > 4096 sometimes.
			size_t size = in_.ConsumeIntegralInRange<size_t>(0, ZSPP_MAX_ALLOC_SIZE + 8);
			unsigned long h = 1;
			int r = zspp_malloc(pool_, size, in_.ConsumeBool() ? FAKE_GFP_ZSWAP : FAKE_GFP_ATOMIC, &h);
			if (size == 0 || size > ZSPP_MAX_ALLOC_SIZE) {
				CHECK(r == -ZSPP_EINVAL && h == 1, "malloc(%zu) = %d", size, r);
				return;
			}
			if (r == -ZSPP_ENOMEM && injecting_) {
				CHECK(h == 1, "handle written on -ENOMEM");
				enomem_++;
				return;
			}
			CHECK(r == 0, "malloc(%zu) = %d", size, r);
			CHECK(h && h % 8 == 0 && !ref_.count(h), "bad or duplicate handle %#lx", h);
			Ref ref{size, false, {}};
			if (in_.ConsumeBool()) {
				ref.data = bytes(size);
				ref.known = true;
				zspp_obj_write(pool_, h, ref.data.data(), size);
			}
			ref_[h] = std::move(ref);
			return;
		}
		case kFree: {
			if (ref_.empty())
				return;
			unsigned long h = pick();
			zspp_free(pool_, h);
			ref_.erase(h);
			freed_.push_back(h);
			if (freed_.size() > 64) // stays within the fake's quarantine
				freed_.erase(freed_.begin());
			return;
		}
		case kWrite: {
			if (ref_.empty())
				return;
			unsigned long h = pick();
			Ref &r = ref_[h];
			size_t len = in_.ConsumeIntegralInRange<size_t>(1, r.size + 2);
			std::vector<uint8_t> b = bytes(len);
			unsigned long warns = fake::bad_handle_warnings();
			int wr = zspp_obj_write(pool_, h, b.data(), len);
			if (wr == -ZSPP_ENOMEM && injecting_) {
				// Fold builds: a shared object's private copy could not
				// get a slot; nothing was written (not a malloc failure).
				return;
			}
			CHECK(wr == 0, "obj_write = %d", wr);
			if (len > r.size) {
				CHECK(fake::bad_handle_warnings() == warns + 1, "over-long write not reported");
				bad_++;
				len = r.size;
			}
			r.write_prefix(b.data(), len);
			return;
		}
		case kReadBegin:
		case kObjSize:
			if (!ref_.empty()) {
				unsigned long h = pick();
				check_read(h, ref_[h], 0);
			}
			return;
		case kMap: {
			if (ref_.empty())
				return;
			unsigned long h = pick();
			Ref &r = ref_[h];
			int mode = in_.ConsumeIntegral<uint8_t>() % 3;
			auto *p = static_cast<uint8_t *>(zspp_map_object(pool_, h, zspp_mapmode(mode)));
			if (!p && mode != ZSPP_MM_RO && injecting_)
				return; // as obj_write's -ENOMEM above
			CHECK(p, "map returned NULL");
			CHECK(fake::locks_held() == 0, "lock held after map");
			if (mode != ZSPP_MM_WO)
				CHECK(r.diff(p) == -1, "map %d content mismatch (op %lu)", mode, n_ops_);
			if (mode == ZSPP_MM_WO) {
				r.replace(bytes(r.size));
				memcpy(p, r.data.data(), r.size);
			} else if (mode == ZSPP_MM_RW && r.known) {
				size_t at = in_.ConsumeIntegralInRange<size_t>(0, r.size - 1);
				p[at] = r.data[at] = in_.ConsumeIntegral<uint8_t>();
			}
			// An occasional compaction while mapped: the object must stay put.
			if (in_.ConsumeBool())
				zspp_compact(pool_);
			zspp_unmap_object(pool_, h);
			return;
		}
		case kInject: {
			uint8_t how = in_.ConsumeIntegral<uint8_t>();
			if (how % 3 == 0) {
				fake::fail_off();
				injecting_ = false;
			} else if (how % 3 == 1) {
				fake::fail_nth(1 + in_.ConsumeIntegral<uint8_t>() % 8);
				injecting_ = true;
			} else {
				fake::fail_random((how % 50) / 100.0, in_.ConsumeIntegral<uint32_t>());
				injecting_ = true;
			}
			return;
		}
		case kCompact: {
			unsigned long before = zspp_get_total_pages(pool_);
			unsigned long promised = zspp_compactable_pages(pool_);
			unsigned long freed = zspp_compact(pool_);
			// The promise is an upper bound (a move may give its
			// destination a page), and a compaction never ends with
			// more pages than it found, whatever allocation fails.
			CHECK(freed <= promised, "compact freed %lu, promised %lu", freed, promised);
			CHECK(zspp_get_total_pages(pool_) == before - freed, "pages after compact: %lu -> %lu, freed %lu", before,
			      zspp_get_total_pages(pool_), freed);
			// Exact when every page allocation succeeds (a destination's
			// next page may be needed; GFP_NOWAIT, so injected failures
			// stop a class): every class ends packed (full zspages and
			// one part-full one trimmed to the pages its objects reach),
			// so nothing is compactable.
			if (!injecting_) {
				CHECK(zspp_compactable_pages(pool_) == 0, "compactable after compact");
				for (unsigned ci = 0; ci < zspp_nr_classes(pool_); ci++) {
					struct zspp_class_stats cs;
					if (zspp_class_stats(pool_, ci, &cs) != 0)
						continue;
					CHECK(cs.obj_allocated - cs.obj_used < cs.objs_per_zspage,
					      "class %u keeps %lu free slots after compact", ci,
					      cs.obj_allocated - cs.obj_used);
					unsigned long rest = cs.obj_used % cs.objs_per_zspage;
					unsigned long packed = cs.obj_used / cs.objs_per_zspage * cs.pages_per_zspage +
							       (rest ? (rest * cs.size - 1) / 4096 + 1 : 0);
					CHECK(cs.pages_used == packed, "class %u holds %lu pages after compact, packed %lu",
					      ci, cs.pages_used, packed);
				}
			}
			return;
		}
		case kValidate:
			check_validate("op");
			return;
		case kDup: {
			if (ref_.empty())
				return;
			unsigned long o = pick();
			Ref copy = ref_[o];
			if (!copy.known)
				return;
			unsigned long h = 1;
			int r = zspp_malloc(pool_, copy.size, FAKE_GFP_ZSWAP, &h);
			if (r == -ZSPP_ENOMEM && injecting_) {
				enomem_++;
				return;
			}
			CHECK(r == 0, "malloc(%zu) = %d", copy.size, r);
			CHECK(zspp_obj_write(pool_, h, copy.data.data(), copy.size) == 0, "obj_write of a fresh object");
			ref_[h] = std::move(copy);
			return;
		}
		case kFold: {
#ifdef ZSPP_FOLD
			unsigned long before = zspp_get_total_pages(pool_);
			unsigned long freed = zspp_fold(pool_);
			CHECK(zspp_get_total_pages(pool_) == before - freed, "pages after fold");
			check_validate("fold");
#endif
			return;
		}
		case kBadFree: {
			unsigned long h;
			uint8_t kind = in_.ConsumeIntegral<uint8_t>() % 3;
			if (kind == 0 && !freed_.empty())
				h = freed_[in_.ConsumeIntegralInRange<size_t>(0, freed_.size() - 1)];
			else if (kind == 1 && !ref_.empty())
				h = pick() + 1 + in_.ConsumeIntegral<uint8_t>() % 7;
			else
				h = 0;
			unsigned long warns = fake::bad_handle_warnings();
			zspp_free(pool_, h);
			CHECK(fake::bad_handle_warnings() == warns + 1, "bad free %#lx not reported", h);
			bad_++;
			return;
		}
		case kShrink:
			fake::shrink_all();
			return;
		case kMigrate: {
			// The kernel migrates the page holding an object's first byte,
			// maybe with zspp busy in the isolation window.
			if (ref_.empty())
				return;
			unsigned long h = pick();
			auto *page = static_cast<zspp_page *>(zspp_debug_handle_page(pool_, h));
			CHECK(page, "debug_handle_page of a live handle");
			uint8_t between = in_.ConsumeIntegral<uint8_t>() % 4;
			void *mapped = nullptr;
			fake::MigrateResult r = fake::migrate_page(page, [&] {
				if (between == 1) { // free the object (maybe the whole zspage)
					zspp_free(pool_, h);
					ref_.erase(h);
				} else if (between == 2) {
					mapped = zspp_map_object(pool_, h, ZSPP_MM_RO);
				} else if (between == 3) {
					zspp_compact(pool_);
				}
			});
			if (mapped) {
				CHECK(r == fake::MigrateResult::kBusy, "migrated a page of a mapped zspage (%d)", int(r));
				zspp_unmap_object(pool_, h);
			}
			if (between == 0)
				CHECK(r == fake::MigrateResult::kMoved, "migration of an idle page failed (%d)", int(r));
			fake::run_pending_work();
			return;
		}
		case kReclaim: {
			unsigned long want = in_.ConsumeIntegral<uint8_t>() % 24, got = 12345;
			unsigned long before = zspp_get_total_pages(pool_);
			in_reclaim_ = true;
			int r = zspp_reclaim(pool_, want, &got);
			in_reclaim_ = false;
			if (!evictable_) {
				CHECK(r == -ZSPP_EINVAL, "reclaim on a plain pool = %d", r);
				return;
			}
			CHECK(r == 0 ? (want == 0 ? got == 0 : got > 0) : (r == -ZSPP_EAGAIN && got == 0),
			      "reclaim(%lu) = %d, %lu pages", want, r, got);
			CHECK(zspp_get_total_pages(pool_) + got <= before, "reclaim freed %lu but pages went %lu -> %lu",
			      got, before, zspp_get_total_pages(pool_));
			check_validate("after reclaim");
			fake::run_pending_work();
			return;
		}
		case kDeferredFree: {
			// Free objects while "migration" holds an object's page lock:
			// an emptied zspage is freed later by the worker.
			if (ref_.empty())
				return;
			unsigned long h = pick();
			auto *page = static_cast<zspp_page *>(zspp_debug_handle_page(pool_, h));
			CHECK(page && zspp_page_trylock(page), "page lock of a live object");
			unsigned n = 1 + in_.ConsumeIntegral<uint8_t>() % 8;
			zspp_free(pool_, h);
			ref_.erase(h);
			for (unsigned i = 1; i < n && !ref_.empty(); i++) {
				unsigned long o = pick();
				zspp_free(pool_, o);
				ref_.erase(o);
			}
			zspp_page_unlock(page);
			fake::run_pending_work();
			return;
		}
		case kNestedRead: {
			if (ref_.size() < 2)
				return;
			unsigned long a = pick(), b = pick();
			std::vector<uint8_t> la(ref_[a].size), lb(ref_[b].size);
			void *pa = zspp_obj_read_begin(pool_, a, la.data());
			void *pb = zspp_obj_read_begin(pool_, b, lb.data());
			CHECK(pa && pb, "nested read_begin");
			zspp_compact(pool_); // both zspages pinned
			CHECK(ref_[a].diff(pa) == -1, "nested read a");
			CHECK(ref_[b].diff(pb) == -1, "nested read b");
			zspp_obj_read_end(pool_, b, pb);
			zspp_obj_read_end(pool_, a, pa);
			return;
		}
		}
	}

	FuzzedDataProvider &in_;
	zspp_pool *pool_ = nullptr;
	RefModel ref_;
	std::vector<unsigned long> freed_;
	fake::Counters base_;
	bool injecting_ = false;
	unsigned long enomem_ = 0, bad_ = 0, n_ops_ = 0;
};

// Hand-written seeds: byte strings in the opcode format above.
void write_seeds(const char *dir)
{
	auto put = [&](const std::string &name, const std::vector<uint8_t> &bytes) {
		std::string path = std::string(dir) + "/" + name;
		FILE *f = fopen(path.c_str(), "wb");
		if (!f)
			return;
		fwrite(bytes.data(), 1, bytes.size(), f);
		fclose(f);
	};
	auto mallocs = [](uint8_t chain, int n, uint16_t base, uint16_t step, bool extra) {
		std::vector<uint8_t> v{chain};
		for (int i = 0; i < n; i++) {
			uint16_t size = uint16_t(base + i * step);
			// ConsumeIntegralInRange reads its bytes from the end of the data;
			// exact sizes do not matter, the shape of the sequence does.
			v.insert(v.end(), {kMalloc, uint8_t(size), uint8_t(size >> 8), 1, 1, 0x55, 0x12, 0x34, 0x56});
			if (extra)
				v.insert(v.end(), {kMap, uint8_t(i), 1, 0, kReadBegin, uint8_t(i), kFree, uint8_t(i * 7)});
		}
		v.insert(v.end(), {kCompact, kValidate});
		return v;
	};
	put("seed-small", mallocs(8, 40, 40, 7, false));
	put("seed-large", mallocs(4, 30, 2900, 37, true));
	put("seed-mixed", mallocs(16, 60, 100, 67, true));
	put("seed-chain1", mallocs(1, 50, 500, 50, true));
	std::vector<uint8_t> inj = mallocs(8, 20, 700, 100, false);
	inj.insert(inj.begin() + 1, {kInject, 2, 0x40, 0, 0, 0});
	put("seed-inject", inj);
	std::vector<uint8_t> bad = mallocs(2, 10, 100, 300, true);
	bad.insert(bad.end(), {kBadFree, 0, 0, kBadFree, 1, 3, kBadFree, 2, kShrink, kNestedRead, 1, 2});
	put("seed-bad", bad);
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
	fake::set_quiet(true);
	fake::set_work_manual(true); // deferred frees run at known points
	if (zspp_core_init("zspp_handle") != 0)
		abort();
	if (const char *dir = getenv("ZSPP_FUZZ_MAKE_SEEDS")) {
		write_seeds(dir);
		exit(0);
	}
	return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzedDataProvider in(data, size);
	Session(in).run();
	fake::fail_off();
	return 0;
}
