# Everything a fresh clone needs: `make book` builds the HTML book, `make test` runs the test suite.
# Both create .venv and install the pinned requirements and the package first (once; again only
# when requirements.txt or pyproject.toml change). `make test` also installs Debian's chromium
# for the browser test if it is missing. `make pdf` installs Debian's TeX packages (`make tex`) if
# xelatex is missing.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
XELATEX := /usr/bin/xelatex
# What Jupyter Book's LaTeX builder needs from Debian: XeLaTeX, latexmk, the LaTeX packages Sphinx
# and sphinx-jupyterbook-latex load, fonts with the book's Unicode, pdfimages/pdftotext for the PDF test.
TEX_PACKAGES := texlive-xetex texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended \
	texlive-pictures latexmk fonts-dejavu fonts-freefont-otf lmodern poppler-utils

.PHONY: book student checks test lab pdf pdf-student tex test-pdf mutation format clean distclean

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

$(XELATEX):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(TEX_PACKAGES)

## book: execute every chapter with papermill (only those whose inputs changed) and build _build/html
book: $(STAMP)
	$(PY) -m prefalign book

## student: the student edition (exercises without solutions) in _build/student/html
student: $(STAMP)
	$(PY) -m prefalign book --edition student

## lab: open the chapters in JupyterLab (jupyterlab-myst renders theorems, math and cross-references)
lab: $(STAMP)
	$(VENV)/bin/jupyter lab --notebook-dir=book

## pdf: the whole book as a PDF (Jupyter Book's LaTeX builder, XeLaTeX) in _build/pdf/book.pdf
pdf: $(STAMP) $(XELATEX)
	$(PY) -m prefalign pdf

## pdf-student: the PDF without the solutions, _build/pdf/student.pdf
pdf-student: $(STAMP) $(XELATEX)
	$(PY) -m prefalign pdf --edition student

## tex: install the Debian TeX packages the PDF needs (once; `make pdf` does it when xelatex is missing)
tex:
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(TEX_PACKAGES)

## test-pdf: build both PDFs and check them (figures, references, no solution in the student PDF)
test-pdf: $(STAMP) $(XELATEX)
	PREFALIGN_TEST_PDF=1 $(PY) -m pytest tests/test_pdf.py

## checks: rerun every numerical check of every chapter and print the table (exit 1 if one fails)
checks: $(STAMP)
	$(PY) -m prefalign checks

## test: the whole test suite (package, pipeline, chapters, the built HTML in headless Chromium)
test: $(STAMP) $(CHROMIUM)
	$(PY) -m pytest

## mutation: apply each mathematical mutant of benchmarks/mutants.toml in a temporary copy, run the checks and
## the fast unit tests on it, print which catches it and both scores (slow: about a minute per mutant; not part of make test)
mutation: $(STAMP)
	$(PY) benchmarks/mutation.py

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
