/* SPDX-License-Identifier: GPL-2.0 */
/* Mock: WARN*() count every hit (kmock_warnings()); BUG_ON() aborts. */
#ifndef KMOCK_LINUX_BUG_H
#define KMOCK_LINUX_BUG_H

#include <stdlib.h>
#include "../kmock.h"

#define WARN_ON(cond) ({						\
	int __ret = !!(cond);						\
	if (__ret)							\
		kmock_warn(__FILE__, __LINE__, #cond);			\
	__ret;								\
})
#define WARN_ON_ONCE(cond) WARN_ON(cond)
#define WARN_ONCE(cond, ...) ({						\
	int __ret = !!(cond);						\
	if (__ret) {							\
		fprintf(stderr, __VA_ARGS__);				\
		kmock_warn(__FILE__, __LINE__, #cond);			\
	}								\
	__ret;								\
})
#define BUG_ON(cond) do { if (cond) { kmock_warn(__FILE__, __LINE__, #cond); abort(); } } while (0)

#endif
