# Nightshift: every command a developer or CI needs. `make help` lists them.
# Everything runs from a virtual environment made here with Python 3.13 (the Lambda runtime),
# found on PATH or under pyenv by scripts/find-python.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON313 := $(shell scripts/find-python)
VENV := .venv
BIN := $(VENV)/bin
# sam build looks for python3.13 on PATH; the venv's own tools come first.
export PATH := $(abspath $(BIN)):$(dir $(PYTHON313)):$(PATH)
export SAM_CLI_TELEMETRY := 0
export PYTHONDONTWRITEBYTECODE := 1

SOURCES := layers/nightshift functions tools tests scripts bench
BUILD_INPUTS := template.yaml $(shell find layers functions policy -type f -not -name '*.pyc' -not -path '*/__pycache__/*')

.PHONY: help
help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(BIN)/.installed: requirements/dev.txt layers/nightshift/requirements.txt pyproject.toml tools/localcloud/pyproject.toml
	@test -n "$(PYTHON313)" || { echo "Python 3.13 is required (see scripts/find-python)"; exit 1; }
	@echo "Installing the pinned tools into $(VENV) (first time only: about 5 minutes, quietly)"
	$(PYTHON313) -m venv $(VENV)
	$(BIN)/pip install --quiet --requirement requirements/dev.txt
	$(BIN)/pip install --quiet --no-deps --editable . --editable tools/localcloud
	touch $@

.PHONY: venv
venv: $(BIN)/.installed ## create .venv with the pinned tools

.PHONY: lock
lock: ## re-pin requirements/dev.txt from requirements/dev.in
	$(PYTHON313) -m venv /tmp/nightshift-lock && cd requirements && /tmp/nightshift-lock/bin/pip install --quiet -r dev.in
	{ echo "# Pinned by 'make lock' from requirements/dev.in with Python 3.13. Do not edit by hand."; \
	  /tmp/nightshift-lock/bin/pip freeze; } > requirements/dev.txt

# The IAM judge (tools/iamjudge): @cloud-copilot/iam-simulate under node, pinned by its lock file.
IAM_JUDGE := tools/iamjudge/node/node_modules/.installed

$(IAM_JUDGE): tools/iamjudge/node/package.json tools/iamjudge/node/package-lock.json
	@command -v node >/dev/null || { echo "node (20 or later) is required by the IAM judge"; exit 1; }
	cd tools/iamjudge/node && npm ci --no-audit --no-fund --loglevel=error
	touch $@

.PHONY: iam-judge
iam-judge: $(IAM_JUDGE) ## install the IAM judge the test tiers judge every AWS call with (npm ci)

.aws-sam/build/template.yaml: $(BIN)/.installed $(BUILD_INPUTS)
	$(BIN)/sam build --cached --parallel
	@touch $@

.PHONY: build
build: .aws-sam/build/template.yaml ## sam build (python3.13, arm64, no Docker)

# checkov pins an old boto3, so it lives in a venv of its own (requirements/checkov.txt).
CHECKOV_VENV := .venv-checkov

$(CHECKOV_VENV)/.installed: requirements/checkov.txt
	@test -n "$(PYTHON313)" || { echo "Python 3.13 is required (see scripts/find-python)"; exit 1; }
	rm -rf $(CHECKOV_VENV)
	$(PYTHON313) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --requirement requirements/checkov.txt
	touch $@

.PHONY: lint
lint: $(BIN)/.installed $(CHECKOV_VENV)/.installed ## ruff, mypy --strict, the policy files, cfn-lint, sam validate --lint and checkov
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)
	$(BIN)/mypy
	$(BIN)/python scripts/check-policy
	$(BIN)/cfn-lint template.yaml spoke.yaml examples/*.yaml
	AWS_DEFAULT_REGION=eu-central-1 $(BIN)/sam validate --lint
	$(CHECKOV_VENV)/bin/checkov --file template.yaml --framework cloudformation --compact --quiet --skip-download
	$(CHECKOV_VENV)/bin/checkov --file spoke.yaml --framework cloudformation --compact --quiet --skip-download

.PHONY: test-unit
test-unit: $(BIN)/.installed ## pure core tests (no AWS, no I/O), and the local cloud's own tests
	$(BIN)/pytest tests/unit tools/localcloud/tests

.PHONY: test-functional
test-functional: $(BIN)/.installed $(IAM_JUDGE) ## each handler x each events/ file under moto, every AWS call judged
	$(BIN)/pytest tests/functional

.PHONY: test-integration
test-integration: build $(IAM_JUDGE) ## built functions in the local cloud (moto server + Lambda RIE), every AWS call judged
	NIGHTSHIFT_IAM_JUDGE=1 $(BIN)/pytest tests/integration

.PHONY: test-faults
test-faults: $(BIN)/.installed ## each handler replayed with a fault at every AWS call; invariants hold
	$(BIN)/pytest tests/faults

.PHONY: reliability
reliability: $(BIN)/.installed ## run the fault tier and write docs/reliability.md from its figures
	NIGHTSHIFT_WRITE_RELIABILITY=1 $(BIN)/pytest tests/faults

.PHONY: test
test: lint test-unit test-functional test-faults test-integration ## everything CI runs: linters and all test tiers

.PHONY: demo
demo: build $(IAM_JUDGE) ## play the example app's day in the local cloud and show the chat messages (every AWS call judged)
	NIGHTSHIFT_IAM_JUDGE=1 $(BIN)/python -m localcloud.demo

.PHONY: week
week: build $(IAM_JUDGE) ## play a simulated week of the example app, every schedule at its rate -> docs/a-week.md (long)
	NIGHTSHIFT_IAM_JUDGE=1 $(BIN)/python -m localcloud.week --compare .localcloud/week/week-before.json

.PHONY: week-before
week-before: build $(IAM_JUDGE) ## the same week with every route immediate (no digest): the counts make week compares with
	NIGHTSHIFT_IAM_JUDGE=1 $(BIN)/python -m localcloud.week --no-digest --out .localcloud/week/a-week-before.md --record .localcloud/week/week-before.json

.PHONY: status-screenshot
status-screenshot: build ## the status page of the example app in the local cloud, shot by headless Chromium -> docs/images/status-page.png
	$(BIN)/python -m localcloud.status_page docs/images/status-page.png

.PHONY: preview
preview: $(BIN)/.installed ## render every notifier fixture for Slack, Teams and email in the terminal
	$(BIN)/python scripts/preview

BENCH_DIR := .bench

$(BIN)/.bench-installed: $(BIN)/.installed bench/requirements.txt
	$(BIN)/pip install --quiet --requirement bench/requirements.txt
	touch $@

$(BENCH_DIR)/c7n-venv/.installed: bench/requirements-c7n.txt
	rm -rf $(BENCH_DIR)/c7n-venv
	$(PYTHON313) -m venv $(BENCH_DIR)/c7n-venv
	$(BENCH_DIR)/c7n-venv/bin/pip install --quiet --requirement bench/requirements-c7n.txt
	touch $@

$(BENCH_DIR)/lambda-runtime/.installed: $(BIN)/.installed bench/requirements-lambda-runtime.txt
	rm -rf $(BENCH_DIR)/lambda-runtime
	$(BIN)/pip install --quiet --compile --target $(BENCH_DIR)/lambda-runtime --requirement bench/requirements-lambda-runtime.txt
	touch $@

.PHONY: bench
bench: build $(BIN)/.bench-installed $(BENCH_DIR)/c7n-venv/.installed $(BENCH_DIR)/lambda-runtime/.installed ## pruner and scheduler vs Cloud Custodian, cold start, canary, scale, notifier burst, organization -> docs/benchmarks.md (~30 min)
	$(BIN)/python -m bench.run

.PHONY: format
format: $(BIN)/.installed ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix $(SOURCES)
	$(BIN)/ruff format $(SOURCES)

.PHONY: clean
clean: ## remove build output and the local cloud's state
	rm -rf .aws-sam .localcloud
