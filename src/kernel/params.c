// SPDX-License-Identifier: GPL-2.0
/*
 * The pool parameters (chain_size, compact_slack) and their parsing, shared by
 * zspp.ko and zsmalloc.ko (src/kernel/zsmalloc_api.c). Each module declares
 * the parameters itself (module.c, zsmalloc_api.c): an object linked into two
 * modules has no single KBUILD_MODNAME, and a parameter's name is prefixed
 * with its module's.
 */
#include <linux/moduleparam.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include <zspp/zspp.h>
#include "internal.h"

/* 0: "auto" (zspp_pool_chain()). */
unsigned int zspp_chain_size;

static int chain_size_set(const char *val, const struct kernel_param *kp)
{
	unsigned int v;
	int ret;

	if (sysfs_streq(val, "auto")) {
		*(unsigned int *)kp->arg = 0;
		return 0;
	}
	ret = kstrtouint(val, 0, &v);
	if (ret)
		return ret;
	if (v < ZSPP_MIN_CHAIN || v > ZSPP_MAX_CHAIN)
		return -EINVAL;
	*(unsigned int *)kp->arg = v;
	return 0;
}

static int chain_size_get(char *buf, const struct kernel_param *kp)
{
	unsigned int v = *(unsigned int *)kp->arg;

	return v ? sysfs_emit(buf, "%u\n", v) : sysfs_emit(buf, "auto\n");
}

const struct kernel_param_ops zspp_chain_size_ops = {
	.set = chain_size_set,
	.get = chain_size_get,
};

/*
 * Permille of a pool's bytes in no object's slot that makes it compact itself;
 * ZSPP_COMPACT_SLACK_AUTO ("auto", the default): zspp_pool_compact_slack().
 */
unsigned int zspp_compact_slack = ZSPP_COMPACT_SLACK_AUTO;
static int compact_slack_set(const char *val, const struct kernel_param *kp)
{
	unsigned int v;
	int ret;

	if (sysfs_streq(val, "auto")) {
		*(unsigned int *)kp->arg = ZSPP_COMPACT_SLACK_AUTO;
		return 0;
	}
	ret = kstrtouint(val, 0, &v);
	if (ret)
		return ret;
	if (v > 1000)
		return -EINVAL;
	*(unsigned int *)kp->arg = v;
	return 0;
}

static int compact_slack_get(char *buf, const struct kernel_param *kp)
{
	unsigned int v = *(unsigned int *)kp->arg;

	return v == ZSPP_COMPACT_SLACK_AUTO ? sysfs_emit(buf, "auto\n") : sysfs_emit(buf, "%u\n", v);
}

const struct kernel_param_ops zspp_compact_slack_ops = {
	.set = compact_slack_set,
	.get = compact_slack_get,
};
