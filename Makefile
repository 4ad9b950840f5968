# tokengate. Two commands matter: `make dev` runs the whole stack locally against the AWS API
# emulator; `make test` runs every check (what CI runs). Both install what they need.

SHELL := bash
VENV  := .venv
STAMP := $(VENV)/.installed

# Tests start their own emulator from the project's virtual environment.
export TOKENGATE_MOTO_SERVER := $(CURDIR)/$(VENV)/bin/moto_server
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

# Cargo tools the checks need, pinned; installed once into cargo's bin directory.
CARGO_FUZZ_VERSION := 0.13.2
CARGO_DENY_VERSION := 0.20.2
TOOLS := target/.tools-$(CARGO_FUZZ_VERSION)-$(CARGO_DENY_VERSION)

# Fuzzing: every target for FUZZ_SECONDS (`make fuzz`); `make test` runs each for SMOKE_SECONDS.
FUZZ_TARGETS  := token http_request authorizer_event
FUZZ_SECONDS  ?= 300
SMOKE_SECONDS ?= 20

.PHONY: test dev bench fuzz venv tools lint-template clean-dev

## venv: the pinned Python tools (emulator, cargo-lambda, cfn-lint) in .venv
venv: $(STAMP)
$(STAMP): requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## tools: cargo-fuzz and cargo-deny at their pinned versions
tools: $(TOOLS)
$(TOOLS):
	cargo install --locked --quiet cargo-fuzz --version $(CARGO_FUZZ_VERSION)
	cargo install --locked --quiet cargo-deny --version $(CARGO_DENY_VERSION)
	mkdir -p target && touch $@

## test: formatting, lints, dependency checks, unit + integration + end-to-end (attack suite,
## browser demo, log checks) tests, fuzz smoke runs, template lint
test: venv tools
	cargo fmt --all -- --check
	cargo fmt --manifest-path fuzz/Cargo.toml -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	cargo deny --locked check licenses bans sources
	cargo test --workspace --locked
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(SMOKE_SECONDS)
	$(VENV)/bin/cfn-lint template.yaml

## fuzz: each fuzz target for FUZZ_SECONDS (new inputs kept in fuzz/corpus/, crashes in
## fuzz/artifacts/); the committed seeds in fuzz/seeds/ include every past crash
fuzz: tools
	@for t in $(FUZZ_TARGETS); do \
	  echo "== fuzz $$t for $(FUZZ_SECONDS)s"; \
	  mkdir -p fuzz/corpus/$$t; \
	  cargo fuzz run --sanitizer none $$t fuzz/corpus/$$t fuzz/seeds/$$t -- \
	    -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 || exit 1; \
	done

## dev: emulator + tables/keys + demo users + functions + local API gateway
dev: venv
	scripts/dev.sh

## bench: authorizer/login benchmarks, AWS calls, Node.js peers, cold start and size; target/bench/summary.json
bench: venv
	scripts/bench.sh

## lint-template: cfn-lint only
lint-template: venv
	$(VENV)/bin/cfn-lint template.yaml

## clean-dev: forget the local stack's state
clean-dev:
	rm -rf .dev
