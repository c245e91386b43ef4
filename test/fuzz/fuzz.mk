# fuzz.mk - libFuzzer targets for every decoder that takes untrusted input (test/fuzz/).
# Included by the top-level Makefile (`-include test/fuzz/fuzz.mk`); also usable alone:
#     make -f test/fuzz/fuzz.mk fuzz fuzz-short
#
#   make fuzz        builds build/fuzz/bin/fuzz_<name> for every test/fuzz/fuzz_<name>.c, with
#                    clang -fsanitize=fuzzer,address,undefined; the common/ and apiserver/
#                    sources the targets need are compiled here with the same sanitizers
#                    (never the gcc-built libraries) into build/fuzz/libfuzz.a.
#   make fuzz-short  builds, then runs every target for FUZZ_SECONDS from its seed corpus
#                    test/fuzz/corpus/<name>/ (test/fuzz/run; TAP output); fails on any
#                    crash, leak, UBSan report or timeout.
#   Long runs:       build/fuzz/bin/fuzz_json -max_total_time=600 /tmp/corpus test/fuzz/corpus/json
#
# Needs Debian's clang and libclang-rt-14-dev (the libFuzzer runtime). A crash found by a
# long run: commit the input as test/fuzz/corpus/<name>/crash-<what> so fuzz-short keeps
# replaying it.

# Included from another Makefile: keep its default goal (this file's first target would take
# it; an empty value lets the includer's next target take it, when included at the top).
FUZZ_INCLUDED := $(filter-out $(lastword $(MAKEFILE_LIST)),$(MAKEFILE_LIST))
FUZZ_PREV_GOAL := $(.DEFAULT_GOAL)

FUZZ_CC ?= clang
FUZZ_BUILD := build/fuzz
FUZZ_BINDIR := $(FUZZ_BUILD)/bin
FUZZ_SECONDS ?= 3
FUZZ_PKGS := libcjson yaml-0.1 libmicrohttpd libcurl openssl
FUZZ_PKG_CFLAGS := $(shell pkg-config --cflags $(FUZZ_PKGS) 2>/dev/null)
FUZZ_PKG_LIBS := $(shell pkg-config --libs $(FUZZ_PKGS) 2>/dev/null)
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=gnu11 -Wall -Wextra -g -O1 $(FUZZ_SAN) -D_GNU_SOURCE -Icommon -I. \
	$(FUZZ_PKG_CFLAGS) -MMD -MP
FUZZ_LDLIBS := $(FUZZ_PKG_LIBS) -lpthread -lm

# The library sources: all of common/ (modules get split and renamed; a full list keeps up),
# and the apiserver parts the targets reach. The linker takes from the archive only what
# each target needs.
FUZZ_LIB_SRC := $(sort $(wildcard common/*.c)) apiserver/requestinfo.c \
	$(sort $(wildcard apiserver/proto/*.c apiserver/patch/*.c apiserver/printers/*.c)) \
	apiserver/openapi/schema.c apiserver/openapi/embed.c dns/message.c dns/zone.c
FUZZ_LIB_OBJ := $(FUZZ_LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_LIB := $(FUZZ_BUILD)/libfuzz.a

FUZZ_SRC := $(sort $(wildcard test/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRC:test/fuzz/%.c=$(FUZZ_BINDIR)/%)

.PHONY: fuzz fuzz-short
.SECONDARY:
fuzz: $(FUZZ_BINS)

fuzz-short: fuzz
	FUZZ_BIN=$(FUZZ_BINDIR) FUZZ_SECONDS=$(FUZZ_SECONDS) ./test/fuzz/run

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

# files compiled in with .incbin
$(FUZZ_BUILD)/apiserver/openapi/embed.o: apiserver/openapi/swagger-v1.32.json
$(FUZZ_BUILD)/apiserver/proto/table.o: apiserver/proto/fields.txt

$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/test/fuzz/%.o: test/fuzz/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Werror -fsanitize=fuzzer -c $< -o $@

$(FUZZ_BINDIR)/%: $(FUZZ_BUILD)/test/fuzz/%.o $(FUZZ_LIB)
	@mkdir -p $(FUZZ_BINDIR)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(FUZZ_LDLIBS)

-include $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_SRC:test/fuzz/%.c=$(FUZZ_BUILD)/test/fuzz/%.d)

ifneq ($(FUZZ_INCLUDED),)
.DEFAULT_GOAL := $(FUZZ_PREV_GOAL)
endif
