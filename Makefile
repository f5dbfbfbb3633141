# The commands a newcomer runs: `make demo` and `make test`.
BUILD ?= build
ASAN_BUILD ?= build-asan
NP ?= 4

.PHONY: setup demo test test-c test-python conformance test-asan-daemons test-valgrind test-chaos bench chaos \
        fuzz fuzz-slice clean deb test-install test-deploy

setup:
	@BUILD_DIR=$(BUILD) ./deploy/setup.sh

demo: setup
	.venv/bin/pytest --mp --np $(NP) -v -p no:cacheprovider --rootdir examples examples

$(ASAN_BUILD)/CMakeCache.txt:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DMP_SANITIZE=ON >/dev/null

# C unit tests and fuzz-corpus replays, under ASan+UBSan.
test-c: setup $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j$$(nproc) >/dev/null
	cd $(ASAN_BUILD) && ctest --output-on-failure

# Plugin and end-to-end tests against the installed daemons, the differential
# conformance matrix (plain pytest as the oracle) included.
test-python: setup
	.venv/bin/pytest -p no:cacheprovider tests/python tests/e2e -q

# The conformance matrix alone, with a line per case.
conformance: setup
	.venv/bin/pytest -p no:cacheprovider tests/e2e/test_conformance_matrix.py -v

# The end-to-end tests again with the daemons built under ASan+UBSan: any report fails.
# The conformance matrix, which exercises the plugin rather than the daemons, runs once
# (in test-python).
test-asan-daemons: test-c
	rm -rf $(ASAN_BUILD)/asan-logs && mkdir -p $(ASAN_BUILD)/asan-logs
	MP_BIN_DIR=$(CURDIR)/$(ASAN_BUILD) \
	ASAN_OPTIONS=log_path=$(CURDIR)/$(ASAN_BUILD)/asan-logs/report:detect_leaks=1 \
	UBSAN_OPTIONS=print_stacktrace=1:log_path=$(CURDIR)/$(ASAN_BUILD)/asan-logs/report \
	.venv/bin/pytest -p no:cacheprovider tests/e2e -q \
	    --ignore=tests/e2e/test_conformance_matrix.py
	@if ls $(ASAN_BUILD)/asan-logs/report* >/dev/null 2>&1; then \
	    cat $(ASAN_BUILD)/asan-logs/report*; echo "sanitizer reports from the daemons"; exit 1; fi

# Part of the end-to-end tests with both daemons under valgrind: any error or leak fails.
test-valgrind: setup
	./tests/valgrind_daemons.sh $(BUILD) tests/e2e/test_strategies.py tests/e2e/test_sync.py \
	    tests/e2e/test_sync_lines.py \
	    tests/e2e/test_process_death.py

# A bounded slice of the chaos test (below), with both daemons under ASan+UBSan: a
# violation or a sanitizer report fails. It makes network namespaces: root only. ASan's
# quarantine of freed memory (256 MB by default) is kept small so that the coordinator's
# memory check measures the coordinator, not the quarantine filling up.
test-chaos: test-c
	@if [ "$$(id -u)" -ne 0 ]; then \
	    echo "test-chaos: skipped: the chaos lab makes network namespaces, which needs root"; \
	    exit 0; fi; \
	rm -rf $(ASAN_BUILD)/asan-chaos && mkdir -p $(ASAN_BUILD)/asan-chaos && \
	MP_BIN_DIR=$(CURDIR)/$(ASAN_BUILD) \
	ASAN_OPTIONS=log_path=$(CURDIR)/$(ASAN_BUILD)/asan-chaos/report:detect_leaks=1:quarantine_size_mb=16 \
	UBSAN_OPTIONS=print_stacktrace=1:log_path=$(CURDIR)/$(ASAN_BUILD)/asan-chaos/report \
	.venv/bin/python tests/chaos/chaos.py --runs 6 --minutes 4 --seed $(CHAOS_TEST_SEED) && \
	if ls $(ASAN_BUILD)/asan-chaos/report* >/dev/null 2>&1; then \
	    cat $(ASAN_BUILD)/asan-chaos/report*; echo "sanitizer reports from the daemons"; exit 1; fi
CHAOS_TEST_SEED ?= 20261127

# The deployment files of deploy/ (systemd, container, compose, Kubernetes, CI): units
# pass systemd-analyze verify (systemd is installed when missing, as root), the YAML
# parses and wires the daemons together, every daemon option used exists.
test-deploy: setup
	@if ! command -v systemd-analyze >/dev/null && [ "$$(id -u)" -eq 0 ]; then \
	    echo "test-deploy: installing systemd for systemd-analyze verify"; \
	    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -q --no-install-recommends systemd >/dev/null; fi
	MP_BIN_DIR=$(CURDIR)/$(BUILD) /usr/bin/python3 -m pytest -p no:cacheprovider tests/deploy -q

test: test-c test-python test-asan-daemons test-valgrind test-chaos fuzz-slice test-deploy \
      test-install

# The Debian package (daemons, library, man pages, systemd units, the plugin for
# /usr/bin/python3), built from a copy of the tree: $(DEB_OUT)/pytest-mp_VERSION_ARCH.deb.
DEB_OUT ?= build-deb
deb:
	DEB_OUT=$(DEB_OUT) ./deploy/build-deb.sh

# The ways pytest-mp installs, each then running a suite: pip install into a fresh venv,
# cmake --install into a prefix, and (root) the Debian package installed, run, removed.
test-install: setup
	.venv/bin/pytest -p no:cacheprovider tests/install -v

bench: setup
	.venv/bin/python bench/bench_run.py

# Seeded chaos across three namespaced hosts (root): faults during runs, then
# exactly-once, no forged passes, no leftovers, bounded coordinator memory.
# A short slice: make chaos CHAOS_RUNS=3 CHAOS_MINUTES=4; replay: CHAOS_SEED=S.
CHAOS_RUNS ?= 200
CHAOS_MINUTES ?= 60
CHAOS_SEED ?=
chaos: setup
	.venv/bin/python tests/chaos/chaos.py --runs $(CHAOS_RUNS) --minutes $(CHAOS_MINUTES) \
	    $(if $(CHAOS_SEED),--seed $(CHAOS_SEED))

# libFuzzer on every decoder (tests/fuzz/fuzz_*.c), built with clang in $(FUZZ_BUILD):
# each target for FUZZ_SECONDS on a scratch copy of its seed corpus; exec counts,
# coverage and any crash file are printed, a crash fails. fuzz-slice: 20 s each.
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 300
fuzz: setup
	FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) ./tests/fuzz/run_fuzz.sh

fuzz-slice:
	$(MAKE) fuzz FUZZ_SECONDS=20

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(DEB_OUT) build-py .venv
