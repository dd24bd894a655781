// SPDX-License-Identifier: GPL-2.0
// The whole C++ runtime the core needs: new/delete over the shim's kmalloc
// with an explicit gfp, and __cxa_pure_virtual. No exceptions, no RTTI, no
// static constructors (the build checks for .init_array sections).
#include "base.h"

void *operator new(zspp::usize size, zspp::Gfp gfp) noexcept
{
	void *p = zspp_kmalloc(size, gfp.flags);
	if (p)
		zspp::zero_bytes(p, size);
	return p;
}

void operator delete(void *ptr) noexcept { zspp_kfree(ptr); }
void operator delete(void *ptr, zspp::usize) noexcept { zspp_kfree(ptr); }

extern "C" void __cxa_pure_virtual();
extern "C" void __cxa_pure_virtual()
{
	zspp_warn_bad_handle("pure virtual call", 0);
}
