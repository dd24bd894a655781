# SPDX-License-Identifier: GPL-2.0
# The zspp core as Kbuild builds it, for the host builds (tests/host,
# bench/host). Set CORE_DIR first. FOLD=1: the CONFIG_ZSPP_FOLD=y core
# (fold.cpp in, -DZSPP_FOLD) in build-fold/ instead of build/.
FOLD   ?= 0
ifeq ($(FOLD),1)
BUILD  ?= build-fold
FOLD_DEF := -DZSPP_FOLD=1
else
BUILD  ?= build
FOLD_DEF :=
endif
CORE_SRCS := $(wildcard $(CORE_DIR)/*.cpp)
ifneq ($(FOLD),1)
CORE_SRCS := $(filter-out $(CORE_DIR)/fold.cpp,$(CORE_SRCS))
endif
