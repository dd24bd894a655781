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

/*
 * Both parameters take "auto" or a number in [min, max]; "auto" is stored as
 * a value no number can be (0 for chain_size, ~0 for compact_slack) and read
 * back as "auto".
 */
static int auto_uint_set(const char *val, const struct kernel_param *kp, unsigned int auto_v,
			 unsigned int min, unsigned int max)
{
	unsigned int v;
	int ret;

	if (sysfs_streq(val, "auto")) {
		*(unsigned int *)kp->arg = auto_v;
		return 0;
	}
	ret = kstrtouint(val, 0, &v);
	if (ret)
		return ret;
	if (v < min || v > max)
		return -EINVAL;
	*(unsigned int *)kp->arg = v;
	return 0;
}

static int auto_uint_get(char *buf, const struct kernel_param *kp, unsigned int auto_v)
{
	unsigned int v = *(unsigned int *)kp->arg;

	return v == auto_v ? sysfs_emit(buf, "auto\n") : sysfs_emit(buf, "%u\n", v);
}

/* 0: "auto" (zspp_pool_chain()). */
unsigned int zspp_chain_size;

static int chain_size_set(const char *val, const struct kernel_param *kp)
{
	return auto_uint_set(val, kp, 0, ZSPP_MIN_CHAIN, ZSPP_MAX_CHAIN);
}

static int chain_size_get(char *buf, const struct kernel_param *kp)
{
	return auto_uint_get(buf, kp, 0);
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
	return auto_uint_set(val, kp, ZSPP_COMPACT_SLACK_AUTO, 0, 1000);
}

static int compact_slack_get(char *buf, const struct kernel_param *kp)
{
	return auto_uint_get(buf, kp, ZSPP_COMPACT_SLACK_AUTO);
}

const struct kernel_param_ops zspp_compact_slack_ops = {
	.set = compact_slack_set,
	.get = compact_slack_get,
};
