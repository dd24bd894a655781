/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Mock: cpuhp_setup_state() keeps the callbacks and runs startup for each
 * online CPU, as the kernel does; kmock_cpu_down()/kmock_cpu_up() (kmock.h)
 * run them for one CPU; cpuhp_remove_state() runs teardown for each online
 * CPU. Only the dynamic PREPARE range is mocked.
 */
#ifndef KMOCK_LINUX_CPUHOTPLUG_H
#define KMOCK_LINUX_CPUHOTPLUG_H

enum cpuhp_state {
	CPUHP_INVALID = -1,
	CPUHP_BP_PREPARE_DYN = 100,
	CPUHP_BP_PREPARE_DYN_END = 120,
};

int cpuhp_setup_state(enum cpuhp_state state, const char *name,
		      int (*startup)(unsigned int cpu), int (*teardown)(unsigned int cpu));
void cpuhp_remove_state(enum cpuhp_state state);

#endif
