# smelt — build, test, run, bench.  Everything a fresh clone needs is set up here.
#
# Caches live outside the clone (override SMELT_CACHE): the cargo target dir and the libz3 5.x
# unpacked from the official z3-solver wheel (Debian's libz3 4.8 deadlocks on timeouts).

SHELL := /bin/bash
SMELT_CACHE ?= $(HOME)/.cache/smelt
Z3_WHEEL_VERSION := 5.4.0.0
Z3_VERSION := 5.4.0
Z3_HOME := $(SMELT_CACHE)/z3-$(Z3_VERSION)
Z3_LIB := $(Z3_HOME)/z3/lib

export CARGO_TARGET_DIR ?= $(SMELT_CACHE)/target
export Z3_NO_PKG_CONFIG := 1
export Z3_SYS_Z3_VERSION := $(Z3_VERSION)
export Z3_LIBRARY_PATH_OVERRIDE := $(Z3_LIB)
# build.rs of each crate turns this into an rpath, so binaries find libz3 without LD_LIBRARY_PATH.
export SMELT_Z3_RPATH := $(Z3_LIB)

CARGO ?= cargo
PROFILE := --release
BIN := $(CARGO_TARGET_DIR)/release/smelt
PIPELINE ?= pipelines/quickstart.toml

.PHONY: all build test run bench z3 fmt clippy lint clean-outputs

all: build

$(Z3_LIB)/libz3.so:
	@mkdir -p $(SMELT_CACHE)/dl $(Z3_HOME)
	@test -f $(SMELT_CACHE)/dl/z3_solver-$(Z3_WHEEL_VERSION)-*.whl || \
	  python3 -m pip download --no-deps --quiet --only-binary=:all: \
	    --platform manylinux_2_27_x86_64 --python-version 3.11 \
	    z3-solver==$(Z3_WHEEL_VERSION) -d $(SMELT_CACHE)/dl
	@cd $(Z3_HOME) && python3 -m zipfile -e $(SMELT_CACHE)/dl/z3_solver-$(Z3_WHEEL_VERSION)-*.whl . >/dev/null
	@test -f $@ && echo "libz3 $(Z3_VERSION) ready in $(Z3_LIB)"

z3: $(Z3_LIB)/libz3.so

build: z3
	$(CARGO) build $(PROFILE) -p smelt --bin smelt

test: z3
	$(CARGO) test $(PROFILE) --workspace --no-fail-fast

run: build
	$(BIN) run $(PIPELINE) $(if $(MODEL),--set model.id=$(MODEL))

bench: z3
	$(CARGO) build $(PROFILE) -p smelt --bin smelt --example bench
	SMELT_BIN=$(BIN) $(CARGO_TARGET_DIR)/release/examples/bench

fmt:
	$(CARGO) fmt --all

clippy lint: z3
	$(CARGO) clippy $(PROFILE) --workspace --all-targets -- -D warnings

clean-outputs:
	rm -rf outputs/*/
