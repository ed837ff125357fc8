# bounce-ml: `make run` and `make test` set everything up on a fresh machine.
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --editable '.[dev,spark,serve]'
	touch $(INSTALLED)

.PHONY: help install run test lint data data-check train evaluate bench notebook screenshot clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

install: $(INSTALLED) ## Create .venv/ with bounce-ml (editable), its dev tools and the Spark extra

run: $(INSTALLED) ## Classify a few example bounces
	$(BIN)/bounce-ml predict \
	  "550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown in virtual mailbox table" \
	  "Diagnostic-Code: smtp; 552 5.2.2 The email account that you tried to reach is over quota" \
	  "你发送到 li.na@163.com 的邮件由于以下原因被退回：550 CoremailSys:System is busy." \
	  "554 5.7.1 Service unavailable; Client host [203.0.113.9] blocked using zen.spamhaus.org"

test: $(INSTALLED) ## Run the whole test suite
	$(BIN)/pytest

lint: $(INSTALLED) ## ruff over the package, tests and bench; mypy over the package
	$(BIN)/ruff check bounce_ml tests bench notebooks/execute.py
	$(BIN)/ruff format --check bounce_ml tests bench notebooks/execute.py
	$(BIN)/mypy

data: $(INSTALLED) ## Regenerate data/generated/ from the corpus and data/templates/
	$(BIN)/bounce-ml data generate

data-check: $(INSTALLED) ## Validate the corpus and print its coverage
	$(BIN)/bounce-ml data check

train: $(INSTALLED) ## Retrain the model in models/ from data/
	$(BIN)/bounce-ml train

evaluate: $(INSTALLED) ## Grouped cross-validation report in reports/evaluation/
	$(BIN)/bounce-ml evaluate --compare

bench: $(INSTALLED) ## Throughput, cold start, memory, model size, training time
	$(BIN)/python bench/run_bench.py

notebook: $(INSTALLED) ## Execute notebooks/1.0-tour.ipynb headless into reports/
	$(BIN)/python notebooks/execute.py notebooks/1.0-tour.ipynb --output reports/1.0-tour.ipynb

screenshot: $(INSTALLED) ## Retake docs/review-page.png (the review page in headless chromium)
	BOUNCE_ML_SCREENSHOT=docs/review-page.png $(BIN)/pytest -q tests/test_review_page.py -k screenshot

clean: ## Remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache
