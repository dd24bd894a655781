// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel side of include/zspp/shim.h: logging, warnings and the task-level misc
 * calls (cond_resched, current).
 * Thin wrappers the C++ core calls instead of kernel headers (the
 * Rust-for-Linux "helpers" idea); one file per section of shim.h.
 */
#include <linux/kernel.h>
#include <linux/sched.h>
#include <linux/bug.h>

#include <zspp/shim.h>
#include "internal.h"

void zspp_cond_resched(void)
{
	cond_resched();
}

const void *zspp_current_task(void)
{
	return current;
}

void zspp_warn_bad_handle(const char *what, unsigned long handle)
{
	WARN_ONCE(1, "zspp: bad handle %#lx (%s)\n", handle, what);
}

void zspp_log_err(const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	pr_err("%pV", &vaf);
	va_end(args);
}

void zspp_log_info(const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	pr_info("%pV", &vaf);
	va_end(args);
}
