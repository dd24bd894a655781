// SPDX-License-Identifier: GPL-2.0
// Freestanding vocabulary for the core: integer types, Result/TRY, atomics,
// an intrusive list, lock guards and allocation with explicit gfp. No kernel
// header and no libstdc++: everything the core needs from outside comes
// through include/zspp/shim.h.
#pragma once

#include <zspp/shim.h>

namespace zspp {

using u8 = __UINT8_TYPE__;
using u16 = __UINT16_TYPE__;
using u32 = __UINT32_TYPE__;
using u64 = __UINT64_TYPE__;
using usize = __SIZE_TYPE__;
using uptr = __UINTPTR_TYPE__;

static_assert(sizeof(u64) == 8 && sizeof(uptr) == 8, "zspp targets 64-bit only");

constexpr usize kPageSize = ZSPP_PAGE_SIZE;
constexpr u32 kPageShift = ZSPP_PAGE_SHIFT;

// ---- errors --------------------------------------------------------------
// The core's one error type: a negative errno, as the kernel's callers
// expect. A function that can fail returns Result<T> (a value or an Error),
// or Result<void> when it has no value; the extern "C" entry points
// (api.cpp) turn it back into the int / pointer the C API documents.
struct Error {
	int code;
};

// A value or an Error (SerenityOS's ErrorOr, minus the heap).
template <typename T>
class [[nodiscard]] Result {
public:
	Result(T value) : value_(value), error_(0) {}
	Result(Error e) : value_(), error_(e.code) {}
	bool ok() const { return error_ == 0; }
	int error() const { return error_; }
	const T &value() const { return value_; }

private:
	T value_;
	int error_;
};

// Success or an Error (ErrorOr<void>).
template <>
class [[nodiscard]] Result<void> {
public:
	Result() : error_(0) {}
	Result(Error e) : error_(e.code) {}
	bool ok() const { return error_ == 0; }
	int error() const { return error_; }
	void value() const {}

private:
	int error_;
};
using Status = Result<void>;
inline Status success() { return Status(); }

// The few helpers of the map/read paths (handle -> class -> zspage -> pin,
// src/core/pool_resolve.h): always inlined, so that a read pays no call,
// spill or ObjRef store for them.
#define ZSPP_HOT __attribute__((always_inline))
// The slow half of a hot path, kept out of line so that the fast half stays
// a leaf (no register saves, no stack protector) and reaches it by a tail
// call.
#define ZSPP_SLOW_HALF __attribute__((noinline))

// On a hot path's local that is written before it is read (an ObjRef, which
// pin()/lookup() fill in, read only on success): not zeroed on entry. The
// kernel builds with CONFIG_INIT_STACK_ALL_ZERO (-ftrivial-auto-var-init=
// zero), which zeroes every local the compiler keeps in memory even where it
// then drops the stores the code makes (6.1 module: 4 stores per read_begin,
// read_end, map, unmap, obj_write and free).
#define ZSPP_NO_AUTO_INIT __attribute__((uninitialized))

// Propagate an error from a Result-returning expression, else yield its
// value (nothing for a Result<void>): SerenityOS's TRY.
#define ZSPP_TRY(expr)                                       \
	({                                                   \
		auto _zspp_r = (expr);                       \
		if (!_zspp_r.ok())                           \
			return ::zspp::Error{_zspp_r.error()}; \
		_zspp_r.value();                             \
	})

// ---- memory ----------------------------------------------------------------
inline void copy_bytes(void *dst, const void *src, usize n) { __builtin_memcpy(dst, src, n); }
inline void zero_bytes(void *dst, usize n) { __builtin_memset(dst, 0, n); }

// Tag type so that every `new` in the core names its gfp.
struct Gfp {
	zspp_gfp_t flags;
};

template <typename T>
T *byte_offset(void *base, usize off) { return reinterpret_cast<T *>(static_cast<char *>(base) + off); }

// ---- atomics (GCC builtins: the kernel's own atomics compile to the same) --
template <typename T>
class Atomic {
public:
	constexpr Atomic() : v_() {}
	T load() const { return __atomic_load_n(&v_, __ATOMIC_ACQUIRE); }
	T load_relaxed() const { return __atomic_load_n(&v_, __ATOMIC_RELAXED); }
	void store(T v) { __atomic_store_n(&v_, v, __ATOMIC_RELEASE); }
	T add(T d) { return __atomic_add_fetch(&v_, d, __ATOMIC_RELAXED); }
	T sub(T d) { return __atomic_sub_fetch(&v_, d, __ATOMIC_RELAXED); }
	T fetch_or(T bits) { return __atomic_fetch_or(&v_, bits, __ATOMIC_RELAXED); }
	// Set to @desired if it holds @expected; acquire on success.
	bool try_exchange(T expected, T desired)
	{
		return __atomic_compare_exchange_n(&v_, &expected, desired, false, __ATOMIC_ACQUIRE,
						   __ATOMIC_RELAXED);
	}
	// Release: the unpinning side's accesses happen before the pin drops.
	T sub_release(T d) { return __atomic_sub_fetch(&v_, d, __ATOMIC_RELEASE); }

private:
	T v_;
};

// One run at a time of a pool-wide pass (compaction, reclaim, folding): a
// run enters, or finds another inside and does not wait. The Entry it gets
// leaves when it goes out of scope, on every way out.
class Exclusive {
public:
	class [[nodiscard]] Entry {
	public:
		explicit Entry(Exclusive *e) : e_(e) {}
		Entry(const Entry &) = delete;
		Entry &operator=(const Entry &) = delete;
		Entry(Entry &&o) : e_(o.e_) { o.e_ = nullptr; }
		~Entry()
		{
			if (e_)
				e_->running_.store(0);
		}
		// Whether this run got in.
		explicit operator bool() const { return e_ != nullptr; }

	private:
		Exclusive *e_;
	};
	Entry try_enter() { return Entry(running_.try_exchange(0, 1) ? this : nullptr); }

private:
	Atomic<u32> running_;
};

template <typename T>
T read_once(const T &v) { return __atomic_load_n(&v, __ATOMIC_RELAXED); }
template <typename T>
void write_once(T &v, T x) { __atomic_store_n(&v, x, __ATOMIC_RELAXED); }

// ---- intrusive doubly linked list (the node lives in the element) ----------
struct ListNode {
	ListNode *prev;
	ListNode *next;

	void init() { prev = next = this; }
	bool empty() const { return next == this; }
	// Insert @n right after this node (at the head when this is a list head).
	void push_front(ListNode *n) {
		n->next = next;
		n->prev = this;
		next->prev = n;
		next = n;
	}
	void unlink() {
		prev->next = next;
		next->prev = prev;
		prev = next = this;
	}
};

// A typed intrusive list: elements of T threaded through the ListNode that
// Links names (Links::link(T *), and back: Links::owner(ListNode *)), so a
// list of zspages can only be walked as zspages, through the right link.
template <typename T, typename Links>
class List {
public:
	void init() { head_.init(); }
	bool empty() const { return head_.empty(); }
	T *first() { return empty() ? nullptr : Links::owner(head_.next); }
	T *last() { return empty() ? nullptr : Links::owner(head_.prev); }
	// The element before @t (towards the head), or nullptr.
	T *prev(T *t)
	{
		ListNode *n = Links::link(t)->prev;
		return n == &head_ ? nullptr : Links::owner(n);
	}
	bool is_first(T *t) const { return head_.next == Links::link(t); }
	void push_front(T *t) { head_.push_front(Links::link(t)); }
	void push_back(T *t) { head_.prev->push_front(Links::link(t)); }
	// Take @t off whichever list of this kind holds it.
	static void remove(T *t) { Links::link(t)->unlink(); }

	class Iter {
	public:
		explicit Iter(ListNode *n) : n_(n) {}
		T *operator*() const { return Links::owner(n_); }
		Iter &operator++()
		{
			n_ = n_->next;
			return *this;
		}
		bool operator!=(const Iter &o) const { return n_ != o.n_; }

	private:
		ListNode *n_;
	};
	// Front to back. The current element may not be removed while iterating.
	Iter begin() { return Iter(head_.next); }
	Iter end() { return Iter(&head_); }

private:
	ListNode head_;
};

// ---- lock annotations -------------------------------------------------------
// Clang's thread-safety analysis (Zircon's TA_GUARDED / TA_REQ): the host
// build `scripts/thread-safety.sh` compiles the core with clang
// -Wthread-safety -Werror, so a field read without its lock, or a helper
// called without the lock it requires, fails that build. Under gcc (the
// kernel's compiler) they expand to nothing. Documentation/locking.rst has
// the rules these spell out.
#if defined(__clang__)
#define ZSPP_TSA(x) __attribute__((x))
#else
#define ZSPP_TSA(x)
#endif
#define ZSPP_CAPABILITY(name) ZSPP_TSA(capability(name))
#define ZSPP_SCOPED_CAPABILITY ZSPP_TSA(scoped_lockable)
#define ZSPP_GUARDED_BY(lock) ZSPP_TSA(guarded_by(lock))
#define ZSPP_REQUIRES(...) ZSPP_TSA(requires_capability(__VA_ARGS__))
#define ZSPP_ACQUIRE(...) ZSPP_TSA(acquire_capability(__VA_ARGS__))
#define ZSPP_RELEASE(...) ZSPP_TSA(release_capability(__VA_ARGS__))
// An accessor that names a private lock (SizeClass::lock()), so that code
// outside the class can say which lock it requires.
#define ZSPP_RETURN_CAPABILITY(x) ZSPP_TSA(lock_returned(x))
// A function the analysis cannot follow, each with its reason: set-up and
// teardown (no other user of the pool exists yet / any more).
#define ZSPP_NO_LOCK_ANALYSIS ZSPP_TSA(no_thread_safety_analysis)

// A read the design does without the lock (the kernel's data_race() +
// READ_ONCE): a racy snapshot, e.g. for the shrinker's count. Written out
// so that neither the analysis nor ThreadSanitizer has to guess: under
// TSan (the host tests' tsan build) the read is excluded from race
// detection the way KCSAN excludes data_race(), and nothing else is.
#if defined(__SANITIZE_THREAD__)
#define ZSPP_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ZSPP_TSAN 1
#endif
#endif
#ifdef ZSPP_TSAN
extern "C" void AnnotateIgnoreReadsBegin(const char *file, int line);
extern "C" void AnnotateIgnoreReadsEnd(const char *file, int line);
#define ZSPP_RACY_READ(expr)                                                 \
	([&]() ZSPP_NO_LOCK_ANALYSIS {                                       \
		AnnotateIgnoreReadsBegin(__FILE__, __LINE__);                \
		auto zspp_racy_v = ::zspp::read_once(expr);                  \
		AnnotateIgnoreReadsEnd(__FILE__, __LINE__);                  \
		return zspp_racy_v;                                          \
	}())
#else
#define ZSPP_RACY_READ(expr) ([&]() ZSPP_NO_LOCK_ANALYSIS { return ::zspp::read_once(expr); }())
#endif

// ---- locking ----------------------------------------------------------------
// A spinlock from the shim (zspp_spin_alloc), as a capability the analysis
// can name: `SizeClass::lock_`, `Pool::defer_lock_`.
class ZSPP_CAPABILITY("spinlock") SpinLock {
public:
	// @kind: what the lock protects; each kind is its own lockdep class.
	[[nodiscard]] bool init(zspp_lock_kind kind)
	{
		raw_ = zspp_spin_alloc(kind);
		return raw_ != nullptr;
	}
	void destroy()
	{
		if (raw_)
			zspp_spin_free(raw_);
		raw_ = nullptr;
	}
	bool valid() const { return raw_ != nullptr; }
	void lock() ZSPP_ACQUIRE() { zspp_spin_lock(raw_); }
	void unlock() ZSPP_RELEASE() { zspp_spin_unlock(raw_); }
	// lockdep_assert_held(): checked by the debug kernel and the host
	// tests, nothing in a production build (shim.h, ZSPP_LOCKDEP). The
	// run-time half of what ZSPP_REQUIRES says to clang.
	void assert_held() const { zspp_lockdep_assert_held(raw_); }

private:
	zspp_spinlock *raw_ = nullptr;
};

// Scoped spinlock (Zircon's Guard<SpinLock>). release() ends the scope early.
class ZSPP_SCOPED_CAPABILITY [[nodiscard]] SpinGuard {
public:
	explicit SpinGuard(SpinLock &lock) ZSPP_ACQUIRE(lock) : lock_(&lock) { lock_->lock(); }
	~SpinGuard() ZSPP_RELEASE() { release(); }
	void release() ZSPP_RELEASE()
	{
		if (lock_) {
			lock_->unlock();
			lock_ = nullptr;
		}
	}
	SpinGuard(const SpinGuard &) = delete;
	SpinGuard &operator=(const SpinGuard &) = delete;

private:
	SpinLock *lock_;
};

template <typename T>
constexpr T min(T a, T b) { return a < b ? a : b; }
template <typename T>
constexpr T max(T a, T b) { return a > b ? a : b; }

} // namespace zspp

// Allocation with explicit gfp (runtime.cpp); returns nullptr on failure.
void *operator new(zspp::usize size, zspp::Gfp gfp) noexcept;
void operator delete(void *ptr) noexcept;
void operator delete(void *ptr, zspp::usize size) noexcept;
inline void *operator new(zspp::usize, void *where) noexcept { return where; }
