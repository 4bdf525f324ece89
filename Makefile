# sori: the two commands a new user needs are `make demo` and `make test`;
# both run `make setup` first, so a fresh clone needs nothing else.
SHELL := /bin/bash
CARGO ?= cargo
CORPORA ?= $(if $(wildcard ../shared/corpora),../shared/corpora,)
export LIBTORCH_BYPASS_VERSION_CHECK := 1

.PHONY: all setup build test lint fmt fuzz bench bench-quick demo fsdd clean

all: build

setup:
	@scripts/setup.sh

build: setup
	$(CARGO) build --release --workspace --all-targets

test: setup
	$(CARGO) test --release --workspace

lint: setup
	scripts/check-architecture.sh
	$(CARGO) fmt --all --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

# The property-based harnesses (WAV bytes, CTC inputs, manifests, vocab.json,
# config.json/checkpoints, ARPA) with many more cases than `make test` runs.
FUZZ_CASES ?= 20000
fuzz: setup
	SORI_FUZZ_CASES=$(FUZZ_CASES) $(CARGO) test --release --workspace \
	  --test robustness --test proptest_inputs --test proptest_manifest \
	  --test proptest_vocab --test proptest_loading --test arpa_errors

bench: setup
	scripts/bench.sh full

bench-quick: setup
	scripts/bench.sh quick

demo: build
	scripts/demo.sh

# FSDD leave-one-speaker-out with speaker normalisation and self-training
# (crates/asr/README.md); needs the recordings, by default from
# ../shared/corpora/fsdd. About an hour on 2 cores.
FSDD ?= $(if $(CORPORA),$(CORPORA)/fsdd/recordings,)
fsdd: build
	FSDD=$(FSDD) scripts/fsdd-loso.sh

clean:
	$(CARGO) clean
