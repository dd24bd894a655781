/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Mock: per-CPU variables are arrays indexed by CPU; "this CPU" is
 * kmock_cpu, which the test sets. Preemption is counted per CPU (so a task
 * simulated on another CPU inside a preempt-off section is not atomic).
 */
#ifndef KMOCK_LINUX_PERCPU_H
#define KMOCK_LINUX_PERCPU_H

#include <linux/kernel.h>

#define DEFINE_PER_CPU(type, name) __typeof__(type) name[NR_CPUS]
#define per_cpu_ptr(ptr, cpu) (&(*(ptr))[(cpu)])
#define per_cpu(var, cpu) ((var)[(cpu)])
#define raw_cpu_ptr(ptr) per_cpu_ptr(ptr, kmock_cpu)
#define this_cpu_ptr(ptr) per_cpu_ptr(ptr, kmock_cpu)
#define raw_cpu_read(var) READ_ONCE((var)[kmock_cpu])
#define this_cpu_read(var) READ_ONCE((var)[kmock_cpu])

#define for_each_possible_cpu(cpu) for ((cpu) = 0; (cpu) < (int)kmock_nr_cpus; (cpu)++)
#define num_possible_cpus() (kmock_nr_cpus)

#define preempt_disable() ((void)kmock_preempt_count[kmock_cpu]++)
void preempt_enable(void);

#endif
