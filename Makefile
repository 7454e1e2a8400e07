# Everything a fresh clone needs: `make book` builds the HTML book, `make test` runs the test suite.
# Both create .venv and install the pinned requirements and the package first (once; again only
# when requirements.txt or pyproject.toml change).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: book test clean distclean

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

## book: execute every chapter with papermill (only those whose inputs changed) and build _build/html
book: $(STAMP)
	$(PY) -m prefalign book

## test: the whole test suite (package, pipeline, chapters with small parameters, the built HTML)
test: $(STAMP)
	$(PY) -m pytest

## clean: remove the build (executed chapters, HTML); keeps .venv
clean:
	rm -rf _build

## distclean: also remove the virtual environment
distclean: clean
	rm -rf $(VENV)
