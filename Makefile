# Everything a fresh clone needs: `make book` builds the HTML book, `make test` runs the test suite.
# Both create .venv and install the pinned requirements and the package first (once; again only
# when requirements.txt or pyproject.toml change). `make test` also installs Debian's chromium
# for the browser test if it is missing.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: book student checks test format clean distclean

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

## book: execute every chapter with papermill (only those whose inputs changed) and build _build/html
book: $(STAMP)
	$(PY) -m prefalign book

## student: the student edition (exercises without solutions) in _build/student/html
student: $(STAMP)
	$(PY) -m prefalign book --edition student

## checks: rerun every numerical check of every chapter and print the table (exit 1 if one fails)
checks: $(STAMP)
	$(PY) -m prefalign checks

## test: the whole test suite (package, pipeline, chapters, the built HTML in headless Chromium)
test: $(STAMP) $(CHROMIUM)
	$(PY) -m pytest

## format: format the chapters' code cells (ruff, at most 88 characters a line; long trailing comments
## moved above their line) and check the line length
format: $(STAMP)
	$(VENV)/bin/ruff format book
	$(PY) -m prefalign.formatting book/*.ipynb
	$(VENV)/bin/ruff format book
	$(VENV)/bin/ruff check book

## clean: remove the build (executed chapters, HTML, screenshots); keeps .venv
clean:
	rm -rf _build

## distclean: also remove the virtual environment
distclean: clean
	rm -rf $(VENV)
