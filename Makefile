# tokengate. Two commands matter: `make dev` runs the whole stack locally against the AWS API
# emulator; `make test` runs every check (what CI runs). Both install what they need.

SHELL := bash
VENV  := .venv
STAMP := $(VENV)/.installed

# The project's tools first (tests start scripts/emulator.py with .venv's Python themselves).
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

# Cargo tools, pinned; installed once into cargo's bin directory. `make test` needs cargo-deny
# and cargo-hakari; only `make fuzz` needs cargo-fuzz.
CARGO_DENY_VERSION   := 0.20.2
CARGO_HAKARI_VERSION := 0.9.39
CARGO_FUZZ_VERSION   := 0.13.2
TOOLS      := target/.tools-deny-$(CARGO_DENY_VERSION)-hakari-$(CARGO_HAKARI_VERSION)
FUZZ_TOOLS := target/.tools-fuzz-$(CARGO_FUZZ_VERSION)
# The docs' link checker (npm packages, needs Node.js), installed from its lock file.
DOC_TOOLS_DIR := target/doc-links
DOC_TOOLS     := $(DOC_TOOLS_DIR)/.installed

# Fuzzing: every target for FUZZ_SECONDS (`make fuzz`). `make test` replays the seeds and a
# fixed-seed sample through the same oracles as an ordinary test, without libFuzzer.
FUZZ_TARGETS := token http_request authorizer_event
FUZZ_SECONDS ?= 300

# The Lambda functions of template.yaml (each one's `Metadata.BuildProperties.Binary`), so that
# `make package` builds exactly what the template deploys.
PACKAGE_FUNCTIONS = $(shell sed -n 's/^ *Binary: *//p' template.yaml)

.PHONY: test dev bench fuzz venv tools doc-tools lint-template package cli clean-dev

## venv: the pinned Python tools (emulator, cargo-lambda, cfn-lint) in .venv
venv: $(STAMP)
$(STAMP): requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## tools: cargo-deny and cargo-hakari at their pinned versions
tools: $(TOOLS)
$(TOOLS):
	cargo install --locked --quiet cargo-deny --version $(CARGO_DENY_VERSION)
	cargo install --locked --quiet cargo-hakari --version $(CARGO_HAKARI_VERSION)
	mkdir -p target && touch $@

## doc-tools: the offline link checker of README.md and docs/ (remark-cli with
## remark-validate-links), pinned with its lock file in scripts/doc-links/, into target/doc-links
doc-tools: $(DOC_TOOLS)
$(DOC_TOOLS): scripts/doc-links/package.json scripts/doc-links/package-lock.json
	rm -rf $(DOC_TOOLS_DIR) && mkdir -p $(DOC_TOOLS_DIR)
	cp $^ $(DOC_TOOLS_DIR)/
	cd $(DOC_TOOLS_DIR) && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

$(FUZZ_TOOLS):
	cargo install --locked --quiet cargo-fuzz --version $(CARGO_FUZZ_VERSION)
	mkdir -p target && touch $@

## test: formatting, one feature set (cargo hakari), lints, dependency policy, unit and twin
## tests with the fuzz seed replay, emulator tests, end-to-end tests (attack suite, browser demo,
## log checks), template lint and checks, SAM's transform, the docs' links and the README's
## first flow; a table of each phase's seconds at the end (scripts/test.sh)
test:
	scripts/test.sh

## fuzz: each fuzz target for FUZZ_SECONDS (new inputs kept in fuzz/corpus/, crashes in
## fuzz/artifacts/); the committed seeds in fuzz/seeds/ include every past crash
fuzz: $(FUZZ_TOOLS)
	@for t in $(FUZZ_TARGETS); do \
	  echo "== fuzz $$t for $(FUZZ_SECONDS)s"; \
	  mkdir -p fuzz/corpus/$$t; \
	  cargo fuzz run --sanitizer none $$t fuzz/corpus/$$t fuzz/seeds/$$t -- \
	    -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 || exit 1; \
	done

## dev: emulator + tables/keys + demo users + functions + local API gateway
dev: venv
	scripts/dev.sh

## bench: authorizer decision (twin-only and with its store access on the emulator, reads per
## decision) and login timings, Node.js peers, cold start and size; medians of runs with their
## range in target/bench/summary.json; fails naming any figure over its budget
## (scripts/bench/budgets.py)
bench: venv
	scripts/bench.sh

## package: every function of template.yaml for arm64 (provided.al2023) as a Lambda zip,
## target/lambda/<function>/bootstrap.zip, in one release build cross-compiled by cargo-lambda with
## the pinned zig; not part of `make test` (a fat-LTO link per function: see docs/performance.md, "Build time")
package: venv
	rustup target add aarch64-unknown-linux-gnu
	cargo lambda build --release --arm64 --output-format zip $(addprefix --bin ,$(PACKAGE_FUNCTIONS))
	@for f in $(PACKAGE_FUNCTIONS); do ls -l target/lambda/$$f/bootstrap.zip || exit 1; done

## cli: the admin CLI `tokengate` into cargo's bin directory (~/.cargo/bin, on PATH after
## rustup's setup); it finds a deployed stack by name (docs/deploy.md)
cli:
	cargo install --locked --path tools/admin

## lint-template: cfn-lint only
lint-template: venv
	scripts/lint-template.sh

## clean-dev: forget the local stack's state
clean-dev:
	rm -rf .dev
