# The two commands of the quick start are `make run` and `make test`; both install what is
# missing (scripts/setup.sh, Debian packages from deps/packages.txt) and build first.
MAKEFLAGS += --no-print-directory
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
HOTLINE := $(BUILD_DIR)/hotline

.PHONY: all setup configure build run test test-sanitize fuzz lint check-reproducible release verify-release clean bench

all: build

setup:
	@bash scripts/setup.sh

configure: setup
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS) -- --no-print-directory

# Profile the bundled demo for a few seconds and print its hot lines.
run: build
	@$(HOTLINE) record --quiet --force --duration 4s -o $(BUILD_DIR)/demo.db -- $(BUILD_DIR)/tests/fixtures/demo
	@$(HOTLINE) top cpu $(BUILD_DIR)/demo.db --top 10

test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure --timeout 600 -j 1

bench: build
	@bash bench/run_all.sh

# Unit tests built with AddressSanitizer + UndefinedBehaviorSanitizer (no privileges needed).
SANITIZE_DIR ?= build-sanitize
test-sanitize: setup
	@cmake -S . -B $(SANITIZE_DIR) -DCMAKE_BUILD_TYPE=Debug -DHOTLINE_SANITIZE=ON >/dev/null
	@cmake --build $(SANITIZE_DIR) -j $(JOBS) --target unit_tests -- --no-print-directory
	@cd $(SANITIZE_DIR) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --output-on-failure -R '^unit\.' -j $(JOBS)

# Fuzz every untrusted-input parser for FUZZ_SECONDS each (CI runs a short, seeded pass).
FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_FLAGS ?=
fuzz: setup
	@cmake -S . -B $(FUZZ_DIR) -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
		-DCMAKE_BUILD_TYPE=RelWithDebInfo -DHOTLINE_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_DIR) -j $(JOBS) --target fixtures fuzz_duration fuzz_proc_maps fuzz_perf_map \
		fuzz_kallsyms fuzz_elf fuzz_recording fuzz_cfi -- --no-print-directory
	@bash fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_FLAGS)

# clang-tidy (.clang-tidy: bugprone, cert, clang-analyzer; warnings are errors) and cppcheck on src/.
lint: build
	@run-clang-tidy -p $(BUILD_DIR) -quiet 'src/' > $(BUILD_DIR)/clang-tidy.log 2>&1 || \
		{ grep -E "(warning|error):" $(BUILD_DIR)/clang-tidy.log | sort -u; echo "lint: clang-tidy failed"; exit 1; }
	@cppcheck --enable=warning,portability,performance --std=c++20 --error-exitcode=1 --inline-suppr --quiet \
		-I src -I bpf -I $(BUILD_DIR)/bpf --suppress=missingIncludeSystem src/
	@echo "lint: clang-tidy and cppcheck clean"

# Two builds of HEAD in two directories must give byte-identical binaries.
check-reproducible: setup
	@bash scripts/check-reproducible.sh

# Signed release artifacts in build/release; verification (README: "Verifying a release").
release: build
	@bash scripts/release.sh
verify-release:
	@bash scripts/verify-release.sh $(VERIFY_FLAGS)

clean:
	rm -rf $(BUILD_DIR) $(SANITIZE_DIR) $(FUZZ_DIR)
