// SPDX-License-Identifier: GPL-2.0
/*
 * CONFIG_ZSPP_FOLD: the optional background fold worker of zpool pools
 * (module parameter fold_interval_ms, 0 = off, the default). Built only
 * with the option. Native API users call zspp_fold() themselves; everyone
 * can trigger a pass with /sys/kernel/debug/zspp/<pool>/fold.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/workqueue.h>
#include <linux/mutex.h>
#include <linux/list.h>
#include <linux/slab.h>
#include <linux/jiffies.h>

#include <zspp/zspp.h>
#include "internal.h"

struct zspp_fold_worker {
	struct list_head node;		/* in workers, under workers_lock */
	struct zspp_pool *pool;
	struct delayed_work work;
};

static unsigned int fold_interval_ms;
static LIST_HEAD(workers);
static DEFINE_MUTEX(workers_lock);

static void fold_worker_fn(struct work_struct *w)
{
	struct zspp_fold_worker *fw = container_of(to_delayed_work(w), struct zspp_fold_worker, work);
	unsigned int ms = READ_ONCE(fold_interval_ms);

	if (!ms)
		return;		/* switched off: set_interval re-arms us */
	zspp_fold(fw->pool);
	queue_delayed_work(system_unbound_wq, &fw->work, msecs_to_jiffies(ms));
}

static int fold_interval_set(const char *val, const struct kernel_param *kp)
{
	struct zspp_fold_worker *fw;
	unsigned int v;
	int ret = kstrtouint(val, 0, &v);

	if (ret)
		return ret;
	if (v && v < 100)
		return -EINVAL;	/* a pass walks every class: not more than 10 a second */
	mutex_lock(&workers_lock);
	WRITE_ONCE(fold_interval_ms, v);
	list_for_each_entry(fw, &workers, node) {
		if (v)
			mod_delayed_work(system_unbound_wq, &fw->work, msecs_to_jiffies(v));
	}
	mutex_unlock(&workers_lock);
	return 0;
}

static const struct kernel_param_ops fold_interval_ops = {
	.set = fold_interval_set,
	.get = param_get_uint,
};
module_param_cb(fold_interval_ms, &fold_interval_ops, &fold_interval_ms, 0644);
MODULE_PARM_DESC(fold_interval_ms,
		 "CONFIG_ZSPP_FOLD builds: fold each zpool pool every this many ms in the background (0 = off, the default; else >= 100)");

void *zspp_fold_worker_start(struct zspp_pool *pool)
{
	struct zspp_fold_worker *fw = kzalloc(sizeof(*fw), GFP_KERNEL);

	if (!fw)
		return NULL;	/* the pool works without one; debugfs fold still does */
	fw->pool = pool;
	INIT_DELAYED_WORK(&fw->work, fold_worker_fn);
	mutex_lock(&workers_lock);
	list_add(&fw->node, &workers);
	if (fold_interval_ms)
		queue_delayed_work(system_unbound_wq, &fw->work, msecs_to_jiffies(fold_interval_ms));
	mutex_unlock(&workers_lock);
	return fw;
}

void zspp_fold_worker_stop(void *cookie)
{
	struct zspp_fold_worker *fw = cookie;

	if (!fw)
		return;
	mutex_lock(&workers_lock);
	list_del(&fw->node);
	mutex_unlock(&workers_lock);
	/* Off the list, nothing re-arms it but itself: cancel_sync handles that. */
	cancel_delayed_work_sync(&fw->work);
	kfree(fw);
}
