# Attention Lab. `make demo` runs the main job, `make test` the tests; both install what they need.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export TF_CPP_MIN_LOG_LEVEL := 3

.PHONY: install sandbox chromium lab exchange hub data release solutions book grade check examples demo test test-fast test-browser calibrate benchmark throughput clean

install: $(STAMP) sandbox  ## local virtual environment, pinned packages, the package, the Jupyter kernel, bubblewrap

# Install the Debian package $(2) that provides the command $(1) when root; otherwise say how. $(3): why it matters.
apt_get = @command -v $(1) >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing $(2) (apt-get install $(2))"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null; \
	  else \
	    echo "$(1) is missing: run 'sudo apt-get install $(2)' (or your system's package). $(3)"; \
	  fi; }

sandbox:  ## bubblewrap, which isolates every graded submission (Debian package; installed here when root)
	$(call apt_get,bwrap,bubblewrap,Without it submissions are graded unsandboxed (limits only) and the sandbox tests fail.)

chromium:  ## Debian's Chromium, which only the browser tests need (make test, test-fast, test-browser; installed here when root)
	$(call apt_get,chromium,chromium,Without it the browser tests fail.)

$(STAMP): requirements.txt pyproject.toml attentionlab/kernelspec/kernel.json
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	$(VENV)/bin/jupyter kernelspec install --sys-prefix --name attentionlab attentionlab/kernelspec >/dev/null
	touch $(STAMP)

LAB_ARGS ?=
lab: install  ## JupyterLab with nbgrader's extensions and the course's config; the course in the Assignments panel
	$(PY) -m grader exchange --publish
	JUPYTER_CONFIG_PATH=$(CURDIR)/grader $(VENV)/bin/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

exchange: install  ## nbgrader's exchange (mode 1777; $$ATTENTIONLAB_EXCHANGE, default grader/exchange), checked
	$(PY) -m grader exchange

hub: install  ## JupyterHub on 127.0.0.1:8000: an instructor and two student accounts, the exchange (root)
	$(PY) -m grader hub

data: install  ## download (or copy from $$ATTENTIONLAB_SPA_ENG) and verify spa-eng.zip
	$(PY) -m grader data

release: install  ## regenerate notebooks/ from solutions/ with nbgrader generate_assignment
	$(PY) -m grader release

solutions: install  ## execute every instructor notebook; any error or failing test fails
	$(PY) -m grader solutions

book: install  ## the walkthrough in English and Spanish, book/_build/html/{en,es}/, from the executed solutions and their Spanish editions (cached by content)
	$(PY) -m grader book

WORKERS ?= 1
grade: install  ## autograde new or changed submissions in grader/submitted/, each sandboxed (WORKERS=2: in parallel)
	$(PY) -m grader autograde --workers $(WORKERS)

check: install  ## self-check one notebook with the instructor's checks, no gradebook: make check NB=path.ipynb
	$(PY) -m grader check "$(NB)"

examples: install  ## autograde the bundled example submissions, two at a time, and print the grade table
	$(PY) -m grader examples --workers 2

demo: install  ## data, release, solutions, autograde the examples (two at a time), grade table
	$(PY) -m grader demo --workers 2

calibrate: install  ## rerun notebooks 4 and 5 on seeds 0 1 2 into attentionlab/baseline.json, the controlled experiment into synthetic.json
	$(PY) -m grader calibrate --seeds 0 1 2

benchmark: install  ## time per epoch, tokens/s and share of the matmul peak, per model (after calibrate)
	$(PY) -m grader benchmark

throughput: install  ## grading speed: 20 notebook-1 and 4 notebook-5 submissions on 1, 2 and Dask workers (~30 min)
	$(PY) -m grader throughput

TEST_WORKERS ?= auto
test: install chromium  ## the full suite, as CI runs it, on one test worker per core (TEST_WORKERS=0: one process)
	$(PY) -m pytest -n $(TEST_WORKERS)

test-fast: install chromium  ## everything that trains no model, on one test worker per core: make test-fast
	$(PY) -m pytest -n $(TEST_WORKERS) -m "not training"

test-browser: install chromium  ## only the browser tests: JupyterLab, Validate, the formgrader and the book in headless Chromium
	$(PY) -m pytest -m browser

clean:  ## remove grading artefacts and the kernel log (not the environment or the data cache)
	rm -rf grader/gradebook.db grader/grades.csv grader/submitted grader/autograded grader/feedback grader/kernel.log
