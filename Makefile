# kiln-pipe — see README.md. `make demo` and `make test` work on a fresh Debian 12 machine with Swift 6.
SWIFT ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
APT_PACKAGES := libcurl4-openssl-dev libsqlite3-dev libxml2-dev libpoppler-glib-dev zlib1g-dev
BIN := .build/debug/kiln-pipe
RELEASE_FLAGS := -c release --static-swift-stdlib --build-path .build-static
RELEASE_DIR := .build-static/release

.PHONY: all setup build build-demo release demo test kiln-reference test-real real-llm bench fuzz completions report-check format lint clean \
	browser-setup test-browser

all: build

# Installs the system libraries that are missing (apt-get; sudo when not root). Idempotent and quiet when done.
setup:
	@missing=""; for package in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; else sudo=sudo; fi; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null; \
	fi
	@test -x "$(SWIFT)" || command -v "$(SWIFT)" >/dev/null || { echo "swift not found: install Swift 6.x (swift.org) and put it on PATH"; exit 1; }

build: setup
	$(SWIFT) build

# The demo needs no PostgreSQL store: without that package trait (postgres-nio and two copies of BoringSSL) the
# binary builds in about a fifth of the time. `make build`, `make release` and `make test` keep it.
build-demo: setup
	$(SWIFT) build --product kiln-pipe --disable-default-traits

# The main job on the embedded default pipelines: no API key, no network (the fake provider runs on loopback).
# The quickstart is rebuilt from its committed cassette (topic tree -> inputs -> answers -> judged -> split ->
# fine-tune files in pipelines/out/quickstart/) and verified byte for byte against its lock; the eval gate
# answers and judges the golden set live against the fake, then reruns from the checkpoint store with zero calls. The documents demo indexes a bookshop's policies (PDF, DOCX, HTML, Markdown, text) and
# searches them.
demo: build-demo
	$(BIN) validate pipelines/quickstart.yml
	$(BIN) run pipelines/quickstart.yml --cassette datasets/quickstart/cassette.jsonl --offline
	$(BIN) verify pipelines/quickstart.yml --dir datasets/quickstart
	$(BIN) run pipelines/evals.yml
	$(BIN) run pipelines/evals.yml --quiet
	$(BIN) index pipelines/docs.yml
	$(BIN) search pipelines/docs.yml "how long do returns take"

# kiln-ai 1.2.0 from PyPI in a venv, as the reference reader of the Kiln projects kiln-pipe writes (its data model
# only: pydantic and a few libraries, not the LLM stack), and the official openai and mcp clients as peers of the fake
# provider and of `kiln-pipe mcp`. Tests that need it are skipped without it.
KILN_REFERENCE := .build-kiln-reference
# The same kiln-ai 1.2.0 with the LLM stack its adapters and dataset formatter import (litellm 1.87, mcp 1.x, together
# 1.x, Vertex), as the Kiln app runs it: the round-trip tests build adapters from the run configs kiln-pipe writes and
# format its splits with Kiln's own DatasetFormatter. A venv of its own, since the MCP peer above is mcp 2.x.
KILN_FULL := .build-kiln-full
kiln-reference:
	@test -x $(KILN_REFERENCE)/bin/python && $(KILN_REFERENCE)/bin/python -c "import kiln_ai.datamodel, openai, mcp" 2>/dev/null || { \
	  python3 -m venv $(KILN_REFERENCE) && \
	  $(KILN_REFERENCE)/bin/pip install -q pydantic jsonschema pyyaml anyio openai mcp && \
	  $(KILN_REFERENCE)/bin/pip install -q --no-deps kiln-ai==1.2.0; } || { \
	  rm -rf $(KILN_REFERENCE); if [ -n "$$CI" ]; then echo "cannot install the kiln-ai reference reader"; exit 1; fi; \
	  echo "kiln-ai reference reader not installed (no PyPI?): its checks are skipped"; }
	@test -x $(KILN_FULL)/bin/python && LITELLM_LOCAL_MODEL_COST_MAP=True $(KILN_FULL)/bin/python -c "import kiln_ai.adapters.adapter_registry, kiln_ai.adapters.fine_tune.dataset_formatter" 2>/dev/null || { \
	  python3 -m venv $(KILN_FULL) && \
	  $(KILN_FULL)/bin/pip install -q pydantic jsonschema pyyaml anyio openai "mcp>=1.10.1,<2" "litellm>=1.87,<1.88" jq "together<2" google-cloud-aiplatform && \
	  $(KILN_FULL)/bin/pip install -q --no-deps kiln-ai==1.2.0; } || { \
	  rm -rf $(KILN_FULL); if [ -n "$$CI" ]; then echo "cannot install kiln-ai with its LLM stack"; exit 1; fi; \
	  echo "kiln-ai's adapters and dataset formatter not installed (no PyPI?): the round-trip checks are skipped"; }

# The tests also start a real PostgreSQL server on loopback (sharded runs on a shared store). Every target must
# declare each module it imports: SwiftPM prints the check's errors but goes on building (swiftlang/swift-package-
# manager#7062), so the log is searched for them.
test: setup kiln-reference
	@$(MAKE) --no-print-directory setup APT_PACKAGES="postgresql"
	@if [ -x $(KILN_REFERENCE)/bin/python ]; then export KILN_REFERENCE_PYTHON="$$(pwd)/$(KILN_REFERENCE)/bin/python"; fi; \
	  if [ -x $(KILN_FULL)/bin/python ]; then export KILN_FULL_PYTHON="$$(pwd)/$(KILN_FULL)/bin/python"; fi; \
	  mkdir -p .build; $(SWIFT) build --build-tests --explicit-target-dependency-import-check error >.build/imports.log 2>&1; \
	  built=$$?; cat .build/imports.log; [ $$built = 0 ] || exit $$built; \
	  if grep -q "imports another target" .build/imports.log; then echo "undeclared imports: declare them in Package.swift"; exit 1; fi; \
	  $(SWIFT) test

# A real OpenAI-compatible server on loopback: llama.cpp (PyPI wheel xllamacpp) serving SmolLM2-135M-Instruct on
# $(LLM_PORT) and all-MiniLM-L6-v2 embeddings on $(LLM_PORT)+1, offline (../shared/real-llm; ~2 min the first time).
REAL_LLM ?= $(firstword $(wildcard ../shared/real-llm /work/shared/real-llm))
LLM_PORT ?= 8011
real-llm:
	@test -n "$(REAL_LLM)" || { echo "the real-llm scripts are not at ../shared/real-llm: set REAL_LLM=<folder>"; exit 2; }
	bash $(REAL_LLM)/setup.sh
	PORT=$(LLM_PORT) bash $(REAL_LLM)/serve.sh

# The quickstart (topics -> inputs -> answers -> LLM judge + G-Eval -> split -> three exports) and a documents
# pipeline with real embeddings, against that server; stops it afterwards.
test-real: build real-llm
	@KILN_REAL_LLM=http://127.0.0.1:$(LLM_PORT)/v1 KILN_REAL_EMBEDDINGS=http://127.0.0.1:$$(($(LLM_PORT) + 1))/v1 \
	  $(SWIFT) test --filter RealModel; status=$$?; PORT=$(LLM_PORT) bash $(REAL_LLM)/serve.sh stop >/dev/null; exit $$status

# The viewer (`kiln-pipe view`) in a real browser: Debian's Chromium and chromium-driver, the PyPI selenium client in
# a venv of its own. A person's path through it (a run, failures, a variant, an item, two runs and two variants
# compared, the --static file too) with screenshots in out/browser/, no request beyond 127.0.0.1, then the timings
# on 100 runs x 10,000 items (out/browser/timings.json). BROWSER_ARGS="--timings-only" or "--runs 10" to narrow.
BROWSER := .build-browser
BROWSER_BIN ?= .build/debug
browser-setup:
	@$(MAKE) --no-print-directory setup APT_PACKAGES="chromium chromium-driver"
	@test -x $(BROWSER)/bin/python && $(BROWSER)/bin/python -c "import selenium" 2>/dev/null || { \
	  python3 -m venv $(BROWSER) && $(BROWSER)/bin/pip install -q selenium; }
test-browser: setup browser-setup
	@test -x $(BROWSER_BIN)/kiln-pipe-bench || $(SWIFT) build --product kiln-pipe-bench
	@test -x $(BROWSER_BIN)/kiln-pipe || $(SWIFT) build --product kiln-pipe
	$(BROWSER)/bin/python Tests/Browser/viewer_test.py --kiln-pipe $(BROWSER_BIN)/kiln-pipe \
	  --bench $(BROWSER_BIN)/kiln-pipe-bench --out out/browser $(BROWSER_ARGS)

# Ratios measured side by side in one run (release build; BENCH_ITEMS=N to change the call count); then the viewer's
# timings in Chromium on 100 runs x 10,000 items.
bench: setup
	@command -v pdftotext >/dev/null || { if [ "$$(id -u)" = 0 ]; then sudo=""; else sudo=sudo; fi; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq poppler-utils >/dev/null; }
	$(SWIFT) build $(RELEASE_FLAGS) --product kiln-pipe
	$(SWIFT) build $(RELEASE_FLAGS) --product kiln-pipe-fake-provider
	$(SWIFT) build $(RELEASE_FLAGS) --product kiln-pipe-bench
	@if [ "$${BENCH_ONLY:-}" != viewer ]; then $(RELEASE_DIR)/kiln-pipe-bench; fi
	@if [ -z "$${BENCH_ONLY:-}" ] || [ "$${BENCH_ONLY}" = viewer ]; then \
	  $(MAKE) --no-print-directory test-browser BROWSER_BIN=$(RELEASE_DIR) BROWSER_ARGS=--timings-only; fi

# Mutation fuzzing of the parsers that read user files (pipeline loader, load's JSONL/CSV/JSON readers, the HTML,
# Markdown and DOCX extractors), FUZZ_SECONDS in all (default 180), each input under 5 s; findings in .build-fuzz/.
fuzz: setup
	$(SWIFT) build $(RELEASE_FLAGS) --product kiln-pipe-fuzz
	$(RELEASE_DIR)/kiln-pipe-fuzz --seconds $${FUZZ_SECONDS:-180} --repository . --findings .build-fuzz

# The shipped binary: optimized, with the Swift runtime and Foundation linked in (it needs only Debian's libcurl,
# libsqlite3 and libxml2; poppler-glib is opened when the first PDF is read). What `make bench` measures.
release: setup
	$(SWIFT) build $(RELEASE_FLAGS) --product kiln-pipe
	@echo "built $(RELEASE_DIR)/kiln-pipe"

# Renders the HTML eval report in headless Chromium (installed from Debian when missing): a screenshot and the
# parsed DOM must show the charts and the item table. Not part of `make test` (Chromium is a large install).
report-check: build
	@command -v chromium >/dev/null || { if [ "$$(id -u)" = 0 ]; then sudo=""; else sudo=sudo; fi; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq chromium >/dev/null; }
	@rm -rf out/report-check && mkdir -p out/report-check
	$(BIN) run pipelines/judge-calibration.yml --quiet --report-dir out/report-check --state out/report-check/state.sqlite --out out/report-check/items
	chromium --headless --no-sandbox --disable-gpu --window-size=1280,2000 --screenshot=out/report-check/report.png \
	  "file://$$(pwd)/out/report-check/report.html" 2>/dev/null
	chromium --headless --no-sandbox --disable-gpu --dump-dom "file://$$(pwd)/out/report-check/report.html" 2>/dev/null > out/report-check/dom.html
	@test $$(stat -c %s out/report-check/report.png) -gt 20000 || { echo "report-check: the screenshot is blank"; exit 1; }
	@test $$(grep -c "<svg" out/report-check/dom.html) -ge 3 || { echo "report-check: charts missing from the rendered DOM"; exit 1; }
	@test $$(grep -o "<tr>" out/report-check/dom.html | wc -l) -ge 10 || { echo "report-check: item rows missing"; exit 1; }
	@echo "report-check: rendered out/report-check/report.html (screenshot out/report-check/report.png)"

# Shell completion scripts, for packaging: out/completions/kiln-pipe.{bash,zsh,fish}
completions: build
	@mkdir -p out/completions
	@for shell in bash zsh fish; do $(BIN) --generate-completion-script $$shell > out/completions/kiln-pipe.$$shell; done
	@echo "wrote out/completions/kiln-pipe.{bash,zsh,fish}"

# House formatting (.swift-format: NIO's 4 spaces, 120 columns): `make format` rewrites, `make lint` fails on a diff.
FORMAT_PATHS := Sources Tests Benchmarks Package.swift
format:
	$(SWIFT) format -i -r -p $(FORMAT_PATHS)

# swift-format leaves long string literals alone: the 120-column limit is checked for every line too.
lint:
	$(SWIFT) format lint --strict -r -p $(FORMAT_PATHS)
	@if grep -rn --include='*.swift' '.\{121,\}' Sources Tests Benchmarks; then echo "lines over 120 columns (above)"; exit 1; fi

clean:
	rm -rf .build .build-static out
