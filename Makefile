# egressguard — see README.md. Flavours build in their own directory (BUILD=...), so objects never mix.
BUILD   ?= build/default
CC      ?= cc
PREFIX  ?= /usr/local

# The one version: the binary reports it, the image is tagged with it, deploy/ runs that tag.
VERSION := $(shell cat VERSION)
CSTD  = -std=c11 -D_POSIX_C_SOURCE=200809L -DEGRESSGUARD_VERSION='"$(VERSION)"'
WARN  = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wformat=2 -Wvla -Wwrite-strings -Wundef
CFLAGS ?= -O2 -g
PKGS   = libmicrohttpd gnutls jansson yaml-0.1 openssl libcurl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = $(CSTD) $(WARN) -I. $(PKG_CFLAGS) $(CFLAGS) -MMD -MP
LIBS       = $(PKG_LIBS) -lpthread -lm

POLICY_SRC = $(sort $(wildcard policy/*.c policy/*/*.c))
CERTS_SRC  = $(sort $(wildcard certs/*.c))
SERVER_SRC = $(filter-out server/main.c,$(sort $(wildcard server/*.c server/*/*.c)))
GEN_SRC    = $(BUILD)/gen/embedded.c
LIB_POLICY = $(BUILD)/libpolicy.a
LIB_CERTS  = $(BUILD)/libcerts.a
LIB_SERVER = $(BUILD)/libserver.a
ALL_LIBS   = $(LIB_SERVER) $(LIB_POLICY) $(LIB_CERTS)

TEST_SRC   = $(sort $(wildcard tests/policy/test_*.c tests/policy/*/test_*.c tests/server/test_*.c \
                tests/server/*/test_*.c tests/certs/test_*.c))
TEST_BINS  = $(patsubst %.c,$(BUILD)/%,$(TEST_SRC))
TEST_HELPERS = $(sort $(wildcard tests/helpers/*.c))
BENCH_SRC  = $(sort $(wildcard tests/bench/bench_*.c))
BENCH_BINS = $(patsubst %.c,$(BUILD)/%,$(BENCH_SRC))
FLOOR_BINS = $(patsubst %.c,$(BUILD)/%,$(sort $(wildcard tests/bench/floor_*.c)))
FUZZ_SRC   = $(sort $(wildcard tests/fuzz/fuzz_*.c))

BIN = $(BUILD)/egressguard

.PHONY: all bin deps test check asan fuzz bench bench-run run install clean image e2e
# Targets that may install packages first (deps) build in a second make: this one computed
# PKG_CFLAGS and PKG_LIBS when it read the Makefile, before deps installed the -dev packages.
all: deps
	@$(MAKE) --no-print-directory bin
bin: $(BIN)
	@ln -sf $(BIN) egressguard

deps:
	@scripts/deps.sh build

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The example policy and anything else the binary carries, as C arrays.
$(GEN_SRC): examples/policy.yaml scripts/embed.sh
	@mkdir -p $(dir $@)
	scripts/embed.sh $@ example_policy=examples/policy.yaml

$(LIB_POLICY): $(patsubst %.c,$(BUILD)/%.o,$(POLICY_SRC))
	@rm -f $@; ar rcs $@ $^
$(LIB_CERTS): $(patsubst %.c,$(BUILD)/%.o,$(CERTS_SRC)) $(BUILD)/empty.o
	@rm -f $@; ar rcs $@ $^
$(LIB_SERVER): $(patsubst %.c,$(BUILD)/%.o,$(SERVER_SRC)) $(BUILD)/gen/embedded.o
	@rm -f $@; ar rcs $@ $^
$(BUILD)/empty.o:
	@mkdir -p $(dir $@); printf 'typedef int egressguard_empty_unit;\n' | $(CC) $(CSTD) -x c -c -o $@ -

# The objects that carry the version string.
$(BUILD)/server/cmd/version.o $(BUILD)/server/output/report.o: VERSION

$(BIN): $(BUILD)/server/main.o $(ALL_LIBS)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(LIBS)

$(BUILD)/tests/%: tests/%.c $(patsubst %.c,$(BUILD)/%.o,$(TEST_HELPERS)) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests $(LDFLAGS) $(TEST_LDFLAGS) -o $@ $(filter %.c %.o %.a,$^) $(LIBS) -lcmocka

# The Kubernetes client's suite puts itself between the client and libcurl's option setter, so
# that it can make libcurl refuse an option.
$(BUILD)/tests/server/kube/test_kube: TEST_LDFLAGS = -Wl,--wrap=curl_easy_setopt

# `make test`: install what is missing, build, run every suite (unit, CLI, integration).
test: deps
	@$(MAKE) --no-print-directory check
check: $(BIN) $(TEST_BINS)
	@tests/run.sh $(BUILD)

asan: deps
	$(MAKE) --no-print-directory BUILD=build/asan CC=clang LDFLAGS="-fsanitize=address,undefined" \
	  CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all" check

# libFuzzer harnesses: built with clang, each run briefly over its seed corpus.
FUZZ_BUILD = build/fuzz
FUZZ_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined
fuzz: deps
	$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang CFLAGS="$(FUZZ_FLAGS)" \
	  $(FUZZ_BUILD)/libpolicy.a $(FUZZ_BUILD)/libserver.a $(FUZZ_BUILD)/libcerts.a
	@set -e; for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	  echo "fuzz: $$n"; \
	  clang $(CSTD) $(WARN) -I. $(PKG_CFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined -o $(FUZZ_BUILD)/$$n $$f \
	    $(FUZZ_BUILD)/libserver.a $(FUZZ_BUILD)/libpolicy.a $(FUZZ_BUILD)/libcerts.a $(LIBS); \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$n; \
	  if ! $(FUZZ_BUILD)/$$n -max_total_time=$${FUZZ_SECONDS:-10} -rss_limit_mb=2048 -artifact_prefix=$(FUZZ_BUILD)/ \
	      $(FUZZ_BUILD)/corpus/$$n tests/fuzz/seeds/$$n >$(FUZZ_BUILD)/$$n.log 2>&1; then \
	    tail -40 $(FUZZ_BUILD)/$$n.log; echo "fuzz: $$n FAILED (log: $(FUZZ_BUILD)/$$n.log)"; exit 1; \
	  fi; tail -1 $(FUZZ_BUILD)/$$n.log; \
	done

# Minimal libmicrohttpd servers that tests/bench/server.sh measures egressguard against.
$(BUILD)/tests/bench/floor_%: tests/bench/floor_%.c tests/bench/floor_common.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBS)

bench: deps
	@$(MAKE) --no-print-directory bench-run
bench-run: $(BIN) $(BENCH_BINS) $(FLOOR_BINS)
	@tests/bench/run.sh $(BUILD)

# End-to-end: a real kube-apiserver (built once from Debian's source, cached) calls egressguard.
e2e: all
	@tests/e2e/run.sh $(BUILD)

run: all
	@scripts/run-dev.sh $(BIN)

# Also a kubectl plugin: kubectl finds kubectl-egressguard on PATH (`kubectl egressguard explain`).
install: all
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/egressguard
	ln -sf egressguard $(DESTDIR)$(PREFIX)/bin/kubectl-egressguard

# The container image, built with podman under build/image/ (no registry or Docker engine needed).
image:
	@scripts/image.sh

clean:
	rm -rf build egressguard

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
