# Two commands on a fresh machine: `make demo` and `make test`. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(abspath $(VENV))/bin
# nbgrader runs `alembic` and `jupyter` from PATH: use the virtual environment's.
export PATH := $(BIN):$(PATH)
ASSIGNMENTS := setting_up initialization regularization gradient_checking optimization hyperparameter_search batch_norm softmax
QUIET := --log-level=WARN

.PHONY: setup bubblewrap chromium postgresql demo test test-quick bundle lab release samples autograde datasets clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,datasets,cluster]'
	touch $@

setup: $(VENV)/.installed bubblewrap

## $(call apt_install,COMMAND,PACKAGE,WHAT FOR): install a Debian package when COMMAND is missing and we can
## (root, Debian/Ubuntu); otherwise say how.
define apt_install
	@command -v $(1) >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing $(2) ($(3))"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null; \
	  else \
	    echo "note: $(2) is not installed, and $(3) need it: sudo apt-get install $(2)"; \
	  fi; }
endef

## Grading runs student code inside bubblewrap.
bubblewrap:
	$(call apt_install,bwrap,bubblewrap,the grading sandbox and autograding)

## The browser tests open the feedback and the formgrader in Debian's chromium.
chromium:
	$(call apt_install,chromium,chromium,the browser tests)

## The PostgreSQL gradebook's tests start a throwaway server of their own (initdb, pg_ctl): Debian's postgresql.
## Debian keeps those commands in /usr/lib/postgresql/<version>/bin, off PATH; the tests look there too.
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing postgresql (the PostgreSQL gradebook tests)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  else \
	    echo "note: postgresql is not installed, and the PostgreSQL gradebook tests need it: sudo apt-get install postgresql"; \
	  fi; }

## Regenerate release/ (the student copies) from source/.
release: setup
	@for a in $(ASSIGNMENTS); do nbgrader generate_assignment $$a --force $(QUIET) || exit 1; done

## Write the sample submissions into submitted/.
samples: release
	$(BIN)/python -m tests.samples

## Autograde every submission in submitted/: sandboxed, in parallel, resumable; prints the grade table
## and writes reports/ and feedback/.
autograde: samples
	idnn-grade --force $(ASSIGNMENTS)

## The main job: release, sample submissions, autograde, grade table, and a check of each sample's score.
demo: autograde
	@for a in $(ASSIGNMENTS); do $(BIN)/python -m tests.samples --check $$a || exit 1; done

## The whole suite, in two test processes (the slow tests spend much of their time waiting on kernels and graders;
## the courses they share are built once, by whichever process needs one first). TEST_PROCESSES=0: one process.
TEST_PROCESSES ?= 2
test: setup chromium postgresql
	$(BIN)/python -m pytest -n $(TEST_PROCESSES) --dist worksteal

## The quick tests alone (a few seconds): everything not marked slow.
test-quick: setup
	$(BIN)/python -m pytest -m "not slow"

## What a student receives: student/ and student.zip (the notebooks of release/, the student side of the helpers,
## the datasets, ./start to install and open them); refused if anything of the instructor's ends up in it.
bundle: setup
	$(BIN)/python -m idnn.autograde.student_bundle build student

## JupyterLab on the student bundle alone: its notebooks, its idnn (no grader), nbgrader's instructor tools off
## (as root, e.g. in a container, with --allow-root). See utils/autograde/student_bundle.py.
lab: bundle
	$(BIN)/python -m idnn.autograde.student_bundle serve student

datasets: setup
	$(BIN)/python -m idnn.build_datasets

clean:
	rm -rf $(VENV) submitted autograded/*/ autograded/.journal.jsonl feedback reports gradebook.db student student.zip browser-screenshots
