// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel side of include/zspp/shim.h: work items (process context).
 * Thin wrappers the C++ core calls instead of kernel headers (the
 * Rust-for-Linux "helpers" idea); one file per section of shim.h.
 */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include <zspp/shim.h>
#include "internal.h"

struct zspp_work {
	struct work_struct work;
	void (*fn)(void *);
	void *arg;
};

static void zspp_work_fn(struct work_struct *w)
{
	struct zspp_work *zw = container_of(w, struct zspp_work, work);

	zw->fn(zw->arg);
}

struct zspp_work *zspp_work_create(void (*fn)(void *), void *arg)
{
	struct zspp_work *zw = kzalloc(sizeof(*zw), GFP_KERNEL);

	if (!zw)
		return NULL;
	INIT_WORK(&zw->work, zspp_work_fn);
	zw->fn = fn;
	zw->arg = arg;
	return zw;
}

void zspp_work_kick(struct zspp_work *zw)
{
	schedule_work(&zw->work);
}

void zspp_work_destroy(struct zspp_work *zw)
{
	flush_work(&zw->work);
	kfree(zw);
}
