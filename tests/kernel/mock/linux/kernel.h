/* SPDX-License-Identifier: GPL-2.0 */
/* Mock: what src/kernel/ uses of linux/kernel.h (and kconfig.h, printk.h). */
#ifndef KMOCK_LINUX_KERNEL_H
#define KMOCK_LINUX_KERNEL_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <linux/types.h>
#include <linux/compiler.h>
#include "../kmock.h"

/* IS_ENABLED(CONFIG_FOO): 1 iff CONFIG_FOO is defined to 1 (the kernel's trick). */
#define __ARG_PLACEHOLDER_1 0,
#define __take_second_arg(__ignored, val, ...) val
#define __is_defined(x) ___is_defined(x)
#define ___is_defined(val) ____is_defined(__ARG_PLACEHOLDER_##val)
#define ____is_defined(arg1_or_junk) __take_second_arg(arg1_or_junk 1, 0)
#define IS_ENABLED(option) __is_defined(option)

#define __static_assert(expr, msg, ...) _Static_assert(expr, msg)
#define static_assert(expr, ...) __static_assert(expr, ##__VA_ARGS__, #expr)

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Sleeping where the simulated CPU may not is a violation (kmock.c). */
void might_sleep(void);
void cond_resched(void);

struct va_format {
	const char *fmt;
	va_list *va;
};
/* printk with the kernel's %pV (a nested struct va_format) as the whole format. */
void kmock_printk(const char *level, const char *fmt, ...);
#define pr_err(fmt, ...) kmock_printk("err", fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...) kmock_printk("info", fmt, ##__VA_ARGS__)

#endif
