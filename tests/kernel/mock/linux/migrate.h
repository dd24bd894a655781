/* SPDX-License-Identifier: GPL-2.0 */
/* Mock: no CONFIG_MIGRATION, so nothing of migrate.h is used. */
#ifndef KMOCK_LINUX_MIGRATE_H
#define KMOCK_LINUX_MIGRATE_H
#endif
