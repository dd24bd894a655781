// SPDX-License-Identifier: GPL-2.0
// PageReserve: pages got with no lock held for use under one (a zspage's
// next page in malloc and in folding's copy on write, the destination pages
// of compaction's moves). What is not taken is freed when the reserve goes
// out of scope, so no path that gives up (an error, a race another CPU
// won, a class that changed while the lock was dropped) can leak a page or
// has to remember to free it: SerenityOS's CommittedPhysicalPageSet.
//
// Declare it before the ClassGuard it serves: locals die in reverse order,
// so the guard is released before the reserve frees, and no page goes back
// to the page allocator under a class lock.
#pragma once

#include "base.h"

namespace zspp {

template <u32 N>
class PageReserve {
public:
	PageReserve() = default;
	PageReserve(const PageReserve &) = delete;
	PageReserve &operator=(const PageReserve &) = delete;
	~PageReserve()
	{
		while (n_)
			zspp_page_free(pages_[--n_]);
	}

	// Get pages with @gfp until @want (at most N) are held. False if the
	// page allocator gave out first: those got stay held.
	[[nodiscard]] bool fill(u32 want, zspp_gfp_t gfp)
	{
		while (n_ < want && n_ < N) {
			zspp_page *p = zspp_page_alloc(gfp);
			if (!p)
				return false;
			pages_[n_++] = p;
		}
		return n_ >= want;
	}

	// One page, now the caller's; nullptr if none is held.
	[[nodiscard]] zspp_page *take() { return n_ ? pages_[--n_] : nullptr; }

	[[nodiscard]] u32 size() const { return n_; }
	[[nodiscard]] bool empty() const { return n_ == 0; }

private:
	zspp_page *pages_[N];
	u32 n_ = 0;
};

// One page (malloc's and copy on write's next page): a pointer, no count,
// so the hot path keeps it in a register as it did a bare zspp_page *.
template <>
class PageReserve<1> {
public:
	PageReserve() = default;
	PageReserve(const PageReserve &) = delete;
	PageReserve &operator=(const PageReserve &) = delete;
	~PageReserve()
	{
		if (page_)
			zspp_page_free(page_);
	}

	[[nodiscard]] bool fill(u32 want, zspp_gfp_t gfp)
	{
		if (want && !page_)
			page_ = zspp_page_alloc(gfp);
		return !want || page_;
	}
	[[nodiscard]] zspp_page *take()
	{
		zspp_page *p = page_;
		page_ = nullptr;
		return p;
	}
	[[nodiscard]] u32 size() const { return page_ ? 1 : 0; }
	[[nodiscard]] bool empty() const { return !page_; }

private:
	zspp_page *page_ = nullptr;
};

} // namespace zspp
