# SPDX-License-Identifier: GPL-2.0
# The zspp core as Kbuild builds it, for the host builds (tests/host,
# bench/host). Set ROOT and CORE_DIR first. FOLD=1: the CONFIG_ZSPP_FOLD=y
# core (fold.cpp in, -DZSPP_FOLD) in build-fold/ instead of build/.
# Defines BUILD, FOLD_DEF, CORE_SRCS, CORE_HDRS, and core_rules: the one rule
# set every host build of the core (plain, tsan, fuzz, coverage, bench) uses.
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
CORE_HDRS := $(wildcard $(CORE_DIR)/*.h) $(wildcard $(ROOT)/include/zspp/*.h)

# runtime.cpp replaces the global operator delete (it is the module's whole
# C++ runtime). In a host binary that would route every delete, gtest's and
# libstdc++'s included, to zspp_kfree. So the core is linked into one
# relocatable object whose references to (and definitions of) the global
# deletes are renamed: the core's `delete` still reaches zspp_kfree, the rest
# of the program keeps the real one.
define core_object
	ld -r -o $(1).tmp.o $(2)
	objcopy --redefine-sym _ZdlPv=zspp_host_core_delete \
		--redefine-sym _ZdlPvm=zspp_host_core_delete_sized $(1).tmp.o $(1)
	rm -f $(1).tmp.o
endef

# $(eval $(call core_rules,DIR,COMPILE)): one build of the core in DIR:
# DIR/core/NAME.o from each $(CORE_DIR)/NAME.cpp by "COMPILE -c -o OUT IN"
# (COMPILE: the compiler and all its flags), and DIR/zspp_core.o, all of
# them linked into one object as core_object says.
define core_rules
$(1)/core/%.o: $$(CORE_DIR)/%.cpp $$(CORE_HDRS) Makefile
	@mkdir -p $$(dir $$@)
	$(2) -c -o $$@ $$<
$(1)/zspp_core.o: $$(patsubst $$(CORE_DIR)/%.cpp,$(1)/core/%.o,$$(CORE_SRCS))
	$$(call core_object,$$@,$$^)
endef
