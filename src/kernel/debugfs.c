// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/zspp/<pool>/{classes,summary} (Documentation/stats.rst).
 * Files read the pool through the public stats API; debugfs_remove waits
 * for readers, so a pool outlives every open read of its files.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/module.h>

#include <zspp/zspp.h>
#include "internal.h"

static struct dentry *zspp_debugfs_root;

/* Fullness groups as zsmalloc names them: the upper bound of each. */
static const char *const group_names[ZSPP_NR_FULLNESS] = {
	"0%", "10%", "20%", "30%", "40%", "50%", "60%", "70%", "80%", "90%", "99%", "100%",
};

static int classes_show(struct seq_file *s, void *v)
{
	struct zspp_pool *pool = s->private;
	struct zspp_class_stats cs;
	unsigned long tot_full[ZSPP_NR_FULLNESS] = { 0 };
	unsigned long tot_alloc = 0, tot_used = 0, tot_pages = 0, tot_free = 0;
#ifdef ZSPP_FOLD
	unsigned long tot_folded = 0;
#endif
	unsigned int i, g;

	seq_printf(s, " %5s %5s", "class", "size");
	for (g = 1; g < ZSPP_NR_FULLNESS; g++)
		seq_printf(s, " %8s", group_names[g]);
	seq_printf(s, " %13s %10s %10s %16s %8s", "obj_allocated", "obj_used",
		   "pages_used", "pages_per_zspage", "freeable");
#ifdef ZSPP_FOLD
	seq_printf(s, " %8s", "folded");
#endif
	seq_puts(s, "\n");

	for (i = 0; i < zspp_nr_classes(pool); i++) {
		if (zspp_class_stats(pool, i, &cs) != 0)
			continue;	/* merged into a larger class */
		seq_printf(s, " %5u %5u", i, cs.size);
		for (g = 1; g < ZSPP_NR_FULLNESS; g++) {
			seq_printf(s, " %8lu", cs.fullness[g]);
			tot_full[g] += cs.fullness[g];
		}
		seq_printf(s, " %13lu %10lu %10lu %16u %8lu", cs.obj_allocated,
			   cs.obj_used, cs.pages_used, cs.pages_per_zspage, cs.freeable);
#ifdef ZSPP_FOLD
		seq_printf(s, " %8lu", cs.folded);
		tot_folded += cs.folded;
#endif
		seq_puts(s, "\n");
		tot_alloc += cs.obj_allocated;
		tot_used += cs.obj_used;
		tot_pages += cs.pages_used;
		tot_free += cs.freeable;
	}
	seq_printf(s, " %5s %5s", "Total", "");
	for (g = 1; g < ZSPP_NR_FULLNESS; g++)
		seq_printf(s, " %8lu", tot_full[g]);
	seq_printf(s, " %13lu %10lu %10lu %16s %8lu", tot_alloc, tot_used,
		   tot_pages, "", tot_free);
#ifdef ZSPP_FOLD
	seq_printf(s, " %8lu", tot_folded);
#endif
	seq_puts(s, "\n");
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(classes);

static int summary_show(struct seq_file *s, void *v)
{
	struct zspp_pool *pool = s->private;
	struct zspp_pool_stats st;

	zspp_pool_stats(pool, &st);
	seq_printf(s, "chain_size %u\n", zspp_pool_chain_size(pool));
	/* Every field of struct zspp_pool_stats, from its list in zspp.h. */
#define ZSPP_SUMMARY_LINE(name, kind, what) seq_printf(s, #name " %lu\n", st.name);
	ZSPP_POOL_STATS(ZSPP_SUMMARY_LINE)
#ifdef ZSPP_FOLD
	ZSPP_POOL_FOLD_STATS(ZSPP_SUMMARY_LINE)
#endif
#undef ZSPP_SUMMARY_LINE
	/* Computed here, from the above and module-wide state. */
	seq_printf(s, "bytes_pages %lu\n", st.pages << PAGE_SHIFT);
	/* bytes_stored per 1000 bytes of pages held: the density zswap sees. */
	seq_printf(s, "density_permille %lu\n",
		   st.pages ? st.bytes_stored * 1000 / (st.pages << PAGE_SHIFT) : 0);
	seq_printf(s, "areas_allocated %ld\n", zspp_areas_allocated());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(summary);

/* Trigger files: writing 1 runs the operation now; anything else is -EINVAL. */
static ssize_t trigger_write(const char __user *ubuf, size_t len)
{
	unsigned int val;
	int ret = kstrtouint_from_user(ubuf, len, 10, &val);

	if (ret)
		return ret;
	return val == 1 ? 0 : -EINVAL;
}

/* A write-only trigger file running @fn(pool). */
#define ZSPP_TRIGGER_FILE(name, fn)						\
static ssize_t name##_write(struct file *file, const char __user *ubuf,	\
			    size_t len, loff_t *ppos)				\
{										\
	ssize_t ret = trigger_write(ubuf, len);					\
										\
	if (ret)								\
		return ret;							\
	fn(file->private_data);							\
	return len;								\
}										\
static const struct file_operations name##_fops = {			\
	.owner = THIS_MODULE,							\
	.open = simple_open,							\
	.write = name##_write,							\
	.llseek = noop_llseek,							\
}

ZSPP_TRIGGER_FILE(compact, zspp_compact);
#ifdef ZSPP_FOLD
ZSPP_TRIGGER_FILE(fold, zspp_fold);
#endif

void zspp_debugfs_init(const char *root)
{
	zspp_debugfs_root = debugfs_create_dir(root, NULL);
}

void zspp_debugfs_exit(void)
{
	debugfs_remove_recursive(zspp_debugfs_root);
	zspp_debugfs_root = NULL;
}

void *zspp_debugfs_add(struct zspp_pool *pool)
{
	struct dentry *dir;

	if (IS_ERR_OR_NULL(zspp_debugfs_root))
		return NULL;
	dir = debugfs_create_dir(zspp_pool_name(pool), zspp_debugfs_root);
	if (IS_ERR(dir)) {
		pr_info("zspp: no debugfs directory for pool %s (name in use?)\n",
			zspp_pool_name(pool));
		return NULL;
	}
	debugfs_create_file("classes", 0444, dir, pool, &classes_fops);
	debugfs_create_file("summary", 0444, dir, pool, &summary_fops);
	debugfs_create_file("compact", 0200, dir, pool, &compact_fops);
#ifdef ZSPP_FOLD
	debugfs_create_file("fold", 0200, dir, pool, &fold_fops);
#endif
	return dir;
}

void zspp_debugfs_remove(void *cookie)
{
	debugfs_remove_recursive(cookie);
}
