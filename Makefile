# tokengate. Two commands matter: `make dev` runs the whole stack locally against the AWS API
# emulator; `make test` runs every check (what CI runs). Both install what they need.

SHELL := bash
VENV  := .venv
STAMP := $(VENV)/.installed

# Tests start their own emulator from the project's virtual environment.
export TOKENGATE_MOTO_SERVER := $(CURDIR)/$(VENV)/bin/moto_server
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: test dev bench venv lint-template clean-dev

## venv: the pinned Python tools (emulator, cargo-lambda, cfn-lint) in .venv
venv: $(STAMP)
$(STAMP): requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## test: formatting, lints, unit + integration + end-to-end tests, template lint
test: venv
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	cargo test --workspace --locked
	$(VENV)/bin/cfn-lint template.yaml

## dev: emulator + tables/keys + demo users + functions + local API gateway
dev: venv
	scripts/dev.sh

## bench: authorizer/login benchmarks, Node.js peers, AWS calls; target/bench/summary.json
bench: venv
	scripts/bench.sh

## lint-template: cfn-lint only
lint-template: venv
	$(VENV)/bin/cfn-lint template.yaml

## clean-dev: forget the local stack's state
clean-dev:
	rm -rf .dev
