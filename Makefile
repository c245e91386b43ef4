# ckube build. `make` builds bin/; `make test` installs deps, builds, runs every suite;
# `make check-asan` runs all C tests under AddressSanitizer + UndefinedBehaviorSanitizer;
# `make up` / `make down` run the local lab cluster; `make bench` runs the benchmarks.

PKGS := libcjson yaml-0.1 libmicrohttpd libcurl openssl libnl-3.0 libnl-route-3.0 libip4tc libarchive
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CC ?= cc
WARN := -Wall -Wextra -Werror
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=gnu11 $(WARN) $(CFLAGS) -D_GNU_SOURCE -Icommon -I. $(PKG_CFLAGS) -MMD -MP
LDLIBS := $(PKG_LIBS) -lpthread -lm

# SAN=1 builds into build/san with ASan + UBSan (abort on the first report).
ifeq ($(SAN),1)
BUILD := build/san
BINDIR := build/san/bin
ALL_CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1
LDFLAGS += -fsanitize=address,undefined
else
BUILD := build/rel
BINDIR := bin
endif

COMMON_SRC := $(sort $(wildcard common/*.c))
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o)
LIB := $(BUILD)/libckube.a

# folder -> binary name, as upstream names them
BIN_apiserver := kube-apiserver
BIN_scheduler := kube-scheduler
BIN_controller-manager := kube-controller-manager
BIN_kubelet := kubelet
BIN_proxy := kube-proxy
BIN_cli := kc
BIN_dns := ckube-dns
DAEMON_DIRS := apiserver scheduler controller-manager kubelet proxy cli dns
LIB_DIRS := $(foreach d,$(DAEMON_DIRS),$(if $(shell find $(d) -name '*.c' ! -path $(d)/main.c 2>/dev/null),$(d)))
BIN_DIRS := $(foreach d,$(DAEMON_DIRS),$(if $(wildcard $(d)/main.c),$(d)))
BINS := $(foreach d,$(BIN_DIRS),$(BINDIR)/$(BIN_$(d)))

dir_src = $(sort $(shell find $(1) -name '*.c'))

UNIT_SRC := $(sort $(wildcard test/unit/test_*.c))
UNIT_BINS := $(UNIT_SRC:%.c=$(BUILD)/%)
TESTLIB_SRC := $(sort $(wildcard test/lib/*.c))
TESTLIB_OBJ := $(TESTLIB_SRC:%.c=$(BUILD)/%.o)
INTEG_SRC := $(sort $(wildcard test/integration/test_*.c))
INTEG_BINS := $(INTEG_SRC:%.c=$(BUILD)/%)
BENCH_SRC := $(sort $(wildcard test/bench/bench_*.c))
BENCH_BINS := $(BENCH_SRC:%.c=$(BUILD)/%)

.SECONDARY:
.PHONY: all deps test check-asan unit-tests test-bins bench up down clean format

all: $(BINS)

deps:
	@./deploy/deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(COMMON_OBJ)
	@rm -f $@
	ar rcs $@ $^

# every daemon folder X: lib<X>.a holds all its .c files but main.c (so tests can link the
# daemon's logic), and bin/<name> is main.o linked against it and libckube.
define LIB_RULE
$(BUILD)/lib$(1).a: $(patsubst %.c,$(BUILD)/%.o,$(filter-out $(1)/main.c,$(call dir_src,$(1))))
	@rm -f $$@
	ar rcs $$@ $$^
endef
define BIN_RULE
$(BINDIR)/$(BIN_$(1)): $(BUILD)/$(1)/main.o $(if $(filter $(1),$(LIB_DIRS)),$(BUILD)/lib$(1).a) $(LIB)
	@mkdir -p $(BINDIR)
	$(CC) $(LDFLAGS) -o $$@ $$^ $(LDLIBS)
endef
$(foreach d,$(LIB_DIRS),$(eval $(call LIB_RULE,$(d))))
$(foreach d,$(BIN_DIRS),$(eval $(call BIN_RULE,$(d))))
DAEMON_LIBS := $(foreach d,$(LIB_DIRS),$(BUILD)/lib$(d).a)

$(BUILD)/test/unit/%: $(BUILD)/test/unit/%.o $(DAEMON_LIBS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BUILD)/test/integration/%: $(BUILD)/test/integration/%.o $(TESTLIB_OBJ) $(DAEMON_LIBS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BUILD)/test/bench/%: $(BUILD)/test/bench/%.o $(TESTLIB_OBJ) $(DAEMON_LIBS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# files compiled into the binaries with .incbin
$(BUILD)/apiserver/openapi/embed.o: apiserver/openapi/swagger-v1.32.json
$(BUILD)/apiserver/proto/table.o: apiserver/proto/fields.txt

test-bins: $(UNIT_BINS) $(INTEG_BINS)

# make test: deps, release build, sanitizer build of every C test, the fuzz targets (their
# seeds and kept reproducers run once, as a regression suite), then every suite.
test: deps
	$(MAKE) all
	$(MAKE) SAN=1 all test-bins
	$(MAKE) fuzz
	./test/run

check-asan: deps
	$(MAKE) SAN=1 all test-bins
	CKUBE_BIN=build/san/bin ./test/run

bench: deps all $(BENCH_BINS)
	./test/bench/run

up: deps all
	./deploy/lab up

down:
	./deploy/lab down

format:
	clang-format -i $$(find common apiserver scheduler controller-manager kubelet proxy cli test -name '*.[ch]')

clean:
	rm -rf build bin

# fuzzing the decoders with libFuzzer (clang): make fuzz, make fuzz-short
-include test/fuzz/fuzz.mk

-include $(shell find build -name '*.d' 2>/dev/null)
