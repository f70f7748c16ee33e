# libresilience — build, check and test everything from one place.
#
#   make test          everything CI checks (lint, header, Rust, C, install, examples)
#   make demo          build and run the examples
#   make build         cargo build --release (libresilience.a / .so)
#   make header        regenerate include/resilience.h
#   make header-check  regenerate, fail on any difference, compile it as C11/C++17
#   make lint          cargo fmt --check, cargo clippy -D warnings
#   make test-rust     cargo test --release
#   make test-c        CTest under ASan/UBSan, under valgrind, and (threaded tests) TSan
#   make examples      build and run examples/c and examples/rust
#   make install       install the header, the libraries, pkg-config and CMake
#                      files (PREFIX=/usr/local, DESTDIR, LIBDIR, INCLUDEDIR)
#   make uninstall     remove what `make install` put there (same variables)
#   make test-install  install into a temporary prefix and build consumers
#   make bench         cargo bench
#   make clean         remove build/ (never target/)
#
# Every target that needs tools runs scripts/setup.sh first; it installs only
# what is missing.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := test
MAKEFLAGS += --no-print-directory

export PATH := $(HOME)/.cargo/bin:$(PATH)

CARGO   ?= cargo
# gcc/g++ unless CC/CXX come from the command line or the environment.
ifeq ($(origin CC),default)
CC := gcc
endif
ifeq ($(origin CXX),default)
CXX := g++
endif
CMAKE   ?= cmake
CTEST   ?= ctest
# Two cores here: keep parallel builds modest.
JOBS    ?= 2

ROOT        := $(CURDIR)
BUILD       := $(ROOT)/build
LIB_A       := $(ROOT)/target/release/libresilience.a
NATIVE_LIBS := -lpthread -ldl -lm
C_WARN      := -std=c11 -Wall -Wextra -Werror -pedantic
CXX_WARN    := -std=c++17 -Wall -Wextra -Werror -pedantic

# The stages of `make test`, in order.
TEST_STAGES := lint header-check test-rust test-c test-install examples

# Install layout (docs/install.md). DESTDIR stages a package: files go under
# $(DESTDIR)$(PREFIX), and what they record is $(PREFIX).
PREFIX       ?= /usr/local
LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
CMAKEDIR     ?= $(LIBDIR)/cmake/resilience
DESTDIR      ?=
STRIP        ?= strip
LIB_SO       := $(ROOT)/target/release/libresilience.so
# The version and ABI version as the (generated, checked-in) header states them.
VERSION := $(shell sed -n 's/^\#define RSL_VERSION_STRING "\(.*\)"$$/\1/p' include/resilience.h)
ABI     := $(shell sed -n 's/^\#define RSL_ABI_VERSION \([0-9]*\)$$/\1/p' include/resilience.h)
# SONAME major = RSL_ABI_VERSION; the file name adds the crate version.
SONAME  := libresilience.so.$(ABI)
REALNAME := libresilience.so.$(ABI).$(VERSION)

.PHONY: setup build header header-check lint test-rust test-c examples demo \
        test bench clean install uninstall test-install

setup:
	@scripts/setup.sh

build: setup
	$(CARGO) build --release
	@# The .so's SONAME is $(SONAME): give the build tree that name too, so a
	@# program linked against target/release finds it there.
	ln -sfn libresilience.so $(ROOT)/target/release/$(SONAME)

header: setup
	@# build.rs regenerates the header only when its inputs look newer than
	@# its last run; touching the cbindgen config (mtime only, no content
	@# change) forces a fresh generation. Only the gen-header build watches it.
	touch include/cbindgen.toml
	$(CARGO) build --features gen-header

header-check: setup
	@mkdir -p $(BUILD)/header-check
	cp include/resilience.h $(BUILD)/header-check/resilience.h.committed
	$(MAKE) header
	@# The regenerated header is what must be committed: nothing is restored.
	@if ! diff -u $(BUILD)/header-check/resilience.h.committed include/resilience.h; then \
	    echo "header-check: include/resilience.h is stale: commit the regenerated file" >&2; \
	    exit 1; \
	fi
	$(CC) $(C_WARN) -Iinclude -c tests/c/header_check.c -o $(BUILD)/header-check/header_check_c.o
	$(CXX) $(CXX_WARN) -Iinclude -c tests/c/header_check.cpp -o $(BUILD)/header-check/header_check_cpp.o
	@# An ignored status must not compile with -Werror (RSL_MUST_USE), in C and C++.
	@printf '#include "resilience.h"\nvoid f(rsl_breaker_config *c);\nvoid f(rsl_breaker_config *c) { rsl_breaker_config_init(c, NULL); }\n' >$(BUILD)/header-check/ignored.c
	@if $(CC) $(C_WARN) -Iinclude -c $(BUILD)/header-check/ignored.c -o /dev/null 2>/dev/null; then \
	    echo "header-check: an ignored rsl_status compiled without a warning (C)" >&2; exit 1; fi
	@if $(CXX) $(CXX_WARN) -x c++ -Iinclude -c $(BUILD)/header-check/ignored.c -o /dev/null 2>/dev/null; then \
	    echo "header-check: an ignored rsl_status compiled without a warning (C++)" >&2; exit 1; fi
	CC=$(CC) tests/c/check_header_names.sh include/resilience.h
	@echo "header-check: header up to date; compiles as C11 and C++17; ignored statuses warn; only rsl_/RSL_ names"

lint: setup
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

test-rust: setup
	$(CARGO) test --release

# Three CMake trees over tests/c: one with ASan/UBSan, one plain whose tests
# are registered a second time under valgrind memcheck, and one with
# ThreadSanitizer for the multi-threaded tests.
test-c: setup build
	$(CMAKE) -S tests/c -B $(BUILD)/c-asan -DCMAKE_BUILD_TYPE=Debug \
	    -DRSL_LIBRARY=$(LIB_A) -DRSL_SANITIZE=ON >/dev/null
	$(CMAKE) --build $(BUILD)/c-asan -j $(JOBS)
	cd $(BUILD)/c-asan && $(CTEST) --output-on-failure --no-tests=error -j $(JOBS)
	$(CMAKE) -S tests/c -B $(BUILD)/c-plain -DCMAKE_BUILD_TYPE=Debug \
	    -DRSL_LIBRARY=$(LIB_A) -DRSL_VALGRIND=ON >/dev/null
	$(CMAKE) --build $(BUILD)/c-plain -j $(JOBS)
	cd $(BUILD)/c-plain && $(CTEST) --output-on-failure --no-tests=error -j $(JOBS)
	$(CMAKE) -S tests/c -B $(BUILD)/c-tsan -DCMAKE_BUILD_TYPE=Debug \
	    -DRSL_LIBRARY=$(LIB_A) -DRSL_TSAN=ON >/dev/null
	$(CMAKE) --build $(BUILD)/c-tsan -j $(JOBS)
	cd $(BUILD)/c-tsan && $(CTEST) --output-on-failure --no-tests=error -j $(JOBS)

# Every examples/c/*.c is built against the static library and run; every
# examples/rust/*.rs is run with `cargo run --example <file name>` (each needs
# an [[example]] entry in Cargo.toml, since Cargo only discovers examples/*.rs).
examples: setup build
	@mkdir -p $(BUILD)/examples
	@set -e; found=0; \
	for src in examples/c/*.c; do \
	    [[ -e $$src ]] || continue; found=1; \
	    name=$$(basename $$src .c); \
	    echo "== examples/c/$$name.c"; \
	    $(CC) $(C_WARN) -O1 -Iinclude $$src $(LIB_A) $(NATIVE_LIBS) -o $(BUILD)/examples/$$name; \
	    $(BUILD)/examples/$$name; \
	done; \
	for src in examples/rust/*.rs; do \
	    [[ -e $$src ]] || continue; found=1; \
	    name=$$(basename $$src .rs); \
	    echo "== examples/rust/$$name.rs"; \
	    $(CARGO) run --quiet --release --example $$name; \
	done; \
	if [[ $$found == 0 ]]; then echo "examples: none found" >&2; exit 1; fi

demo: setup build
	$(MAKE) examples

# Runs every stage even after a failure, then prints a summary and fails if
# any stage failed.
test: setup
	@passed=0; failed=0; report=""; \
	for stage in $(TEST_STAGES); do \
	    echo; echo "======== make $$stage ========"; \
	    start=$$SECONDS; \
	    if $(MAKE) $$stage; then \
	        passed=$$((passed + 1)); report+="  PASS  $$stage ($$((SECONDS - start)) s)"$$'\n'; \
	    else \
	        failed=$$((failed + 1)); report+="  FAIL  $$stage ($$((SECONDS - start)) s)"$$'\n'; \
	    fi; \
	done; \
	echo; echo "======== make test: summary ========"; \
	printf '%s' "$$report"; \
	echo "stages: $$passed passed, $$failed failed"; \
	[[ $$failed == 0 ]]

# Paths the installed files record: relative where they can be, so the CMake
# package still works from a DESTDIR or a moved tree.
rel = $(shell realpath -m --relative-to='$(1)' '$(2)')
pc_dir = $(if $(filter $(PREFIX)/%,$(1)),$${prefix}/$(patsubst $(PREFIX)/%,%,$(1)),$(1))

install: build
	@if [[ -z "$(VERSION)" || -z "$(ABI)" ]]; then \
	    echo "install: no RSL_VERSION_STRING / RSL_ABI_VERSION in include/resilience.h" >&2; exit 1; fi
	@soname=$$(readelf -d $(LIB_SO) | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p'); \
	if [[ "$$soname" != "$(SONAME)" ]]; then \
	    echo "install: $(LIB_SO) has SONAME '$$soname', the header says $(SONAME)" >&2; exit 1; fi
	install -d '$(DESTDIR)$(INCLUDEDIR)' '$(DESTDIR)$(LIBDIR)' '$(DESTDIR)$(PKGCONFIGDIR)' '$(DESTDIR)$(CMAKEDIR)'
	install -m 644 include/resilience.h '$(DESTDIR)$(INCLUDEDIR)/resilience.h'
	install -m 755 $(LIB_SO) '$(DESTDIR)$(LIBDIR)/$(REALNAME)'
	ln -sfn $(REALNAME) '$(DESTDIR)$(LIBDIR)/$(SONAME)'
	ln -sfn $(SONAME) '$(DESTDIR)$(LIBDIR)/libresilience.so'
	@# rustc strips the .so (profile.release strip) but never a staticlib.
	install -m 644 $(LIB_A) '$(DESTDIR)$(LIBDIR)/libresilience.a'
	$(STRIP) --strip-debug '$(DESTDIR)$(LIBDIR)/libresilience.a'
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@PC_LIBDIR@|$(call pc_dir,$(LIBDIR))|g' \
	    -e 's|@PC_INCLUDEDIR@|$(call pc_dir,$(INCLUDEDIR))|g' \
	    -e 's|@VERSION@|$(VERSION)|g' -e 's|@ABI@|$(ABI)|g' \
	    packaging/resilience.pc.in >'$(DESTDIR)$(PKGCONFIGDIR)/resilience.pc'
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@PC_LIBDIR@|$(call pc_dir,$(LIBDIR))|g' \
	    -e 's|@PC_INCLUDEDIR@|$(call pc_dir,$(INCLUDEDIR))|g' \
	    -e 's|@VERSION@|$(VERSION)|g' -e 's|@ABI@|$(ABI)|g' \
	    packaging/resilience-static.pc.in >'$(DESTDIR)$(PKGCONFIGDIR)/resilience-static.pc'
	sed -e 's|@CMAKE_TO_LIBDIR@|$(call rel,$(CMAKEDIR),$(LIBDIR))|g' \
	    -e 's|@CMAKE_TO_INCLUDEDIR@|$(call rel,$(CMAKEDIR),$(INCLUDEDIR))|g' \
	    -e 's|@REAL@|$(REALNAME)|g' -e 's|@SONAME@|$(SONAME)|g' -e 's|@ABI@|$(ABI)|g' \
	    packaging/resilienceConfig.cmake.in >'$(DESTDIR)$(CMAKEDIR)/resilienceConfig.cmake'
	sed -e 's|@VERSION@|$(VERSION)|g' -e "s|@SIZEOF_VOID_P@|$$(($$(getconf LONG_BIT) / 8))|g" \
	    packaging/resilienceConfigVersion.cmake.in >'$(DESTDIR)$(CMAKEDIR)/resilienceConfigVersion.cmake'
	chmod 644 '$(DESTDIR)$(PKGCONFIGDIR)/resilience.pc' '$(DESTDIR)$(PKGCONFIGDIR)/resilience-static.pc' \
	    '$(DESTDIR)$(CMAKEDIR)/resilienceConfig.cmake' \
	    '$(DESTDIR)$(CMAKEDIR)/resilienceConfigVersion.cmake'
	@echo "install: libresilience $(VERSION) (SONAME $(SONAME)) in $(DESTDIR)$(PREFIX)"

uninstall:
	rm -f '$(DESTDIR)$(INCLUDEDIR)/resilience.h' '$(DESTDIR)$(LIBDIR)/libresilience.so' \
	    '$(DESTDIR)$(LIBDIR)/$(SONAME)' '$(DESTDIR)$(LIBDIR)/$(REALNAME)' \
	    '$(DESTDIR)$(LIBDIR)/libresilience.a' '$(DESTDIR)$(PKGCONFIGDIR)/resilience.pc' \
	    '$(DESTDIR)$(PKGCONFIGDIR)/resilience-static.pc' \
	    '$(DESTDIR)$(CMAKEDIR)/resilienceConfig.cmake' '$(DESTDIR)$(CMAKEDIR)/resilienceConfigVersion.cmake'
	-rmdir '$(DESTDIR)$(CMAKEDIR)' 2>/dev/null || true

# Installs into a temporary prefix (and a DESTDIR), builds C consumers with
# pkg-config and with CMake's find_package, shared and static, runs them
# with no LD_LIBRARY_PATH, and checks the SONAME, the exported symbols and
# that no debug info was installed.
test-install: setup build
	MAKE='$(MAKE)' CC='$(CC)' CMAKE='$(CMAKE)' BUILD='$(BUILD)' STRIP='$(STRIP)' \
	    tests/install/run.sh

bench: setup
	$(CARGO) bench

clean:
	rm -rf $(BUILD)
