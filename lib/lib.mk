# SPDX-License-Identifier: Apache-2.0
# lib/: core/ (libc only), ext/ (one wrapper per foreign library), and the domain
# modules on top. Everything becomes one static library.

LIB_SRCS := $(sort $(wildcard lib/core/*.c lib/ext/*.c lib/*.c))
LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS))

$(BUILD)/libairlock.a: $(LIB_OBJS)
	@mkdir -p $(@D)
	$(call say,AR,$@)
	$(Q)rm -f $@
	$(Q)ar rcsD $@ $^
