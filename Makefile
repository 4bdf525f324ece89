# sori: the two commands a new user needs are `make demo` and `make test`;
# both run `make setup` first, so a fresh clone needs nothing else.
SHELL := /bin/bash
CARGO ?= cargo
CORPORA ?= $(if $(wildcard ../shared/corpora),../shared/corpora,)
export LIBTORCH_BYPASS_VERSION_CHECK := 1

.PHONY: all setup build test lint fmt bench bench-quick demo clean

all: build

setup:
	@scripts/setup.sh

build: setup
	$(CARGO) build --release --workspace --all-targets

test: setup
	$(CARGO) test --release --workspace

lint: setup
	$(CARGO) fmt --all --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

bench: setup
	scripts/bench.sh full

bench-quick: setup
	scripts/bench.sh quick

demo: build
	scripts/demo.sh

clean:
	$(CARGO) clean
