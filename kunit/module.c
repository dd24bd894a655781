// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suites for zspp, run on the KASAN + lockdep debug kernel
 * (scripts/kunit.sh). They drive zspp only through its exported API
 * (include/zspp/zspp.h) and check every byte they stored.
 *
 * Allocation failure uses the kernel's fault injection: the runner enables
 * failslab and fail_page_alloc for order-0, non-sleeping allocations, and a
 * test arms current->fail_nth so that exactly the Nth allocation check of
 * this task fails.
 *
 * One file per suite (kunit/<suite>.c), what they share in kunit/helpers.c;
 * this file registers them, in this order, as the module zspp_kunit.
 */
#include "helpers.h"

#ifdef ZSPP_FOLD
kunit_test_suites(&zspp_class_suite, &zspp_data_suite, &zspp_handle_suite,
		  &zspp_error_suite, &zspp_compaction_suite, &zspp_concurrency_suite,
		  &zspp_writeback_suite, &zspp_fold_suite);
#else
kunit_test_suites(&zspp_class_suite, &zspp_data_suite, &zspp_handle_suite,
		  &zspp_error_suite, &zspp_compaction_suite, &zspp_concurrency_suite,
		  &zspp_writeback_suite);
#endif

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests for zspp");
