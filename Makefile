# The README's two commands: `make run` and `make test`. Everything else is a helper of theirs.
BUILD      ?= build
BUILD_TYPE ?= Release
JOBS       ?= $(shell nproc)
WERROR     ?= OFF
SHARED     := $(abspath ../shared/models)
LV         := $(BUILD)/lightvault

.PHONY: all deps build run test fuzz sanitize bench bench-hub clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja: CMakeLists.txt | deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DLV_WERROR=$(WERROR)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# The main job: the hub on an embedded SQLite catalog and the local data folder ./data.
# The first start creates the user `admin` and prints its token once.
DATA   ?= data
LISTEN ?= 127.0.0.1:8080
run: build
	$(LV) serve --data $(DATA) --listen $(LISTEN)

# Tests run two at a time, each with OpenMP threads: passive waiting keeps threads that
# outnumber the cores from spinning away each other's time slices.
test: build tests/hub/node_modules
	OMP_WAIT_POLICY=passive ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# The real @huggingface/hub client that the hub's tests talk to (npm, pinned by the lock file).
tests/hub/node_modules: tests/hub/package.json tests/hub/package-lock.json
	cd tests/hub && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# libFuzzer targets, each run for FUZZ_SECONDS (clang, ASan + UBSan).
FUZZ_SECONDS ?= 30
fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLV_FUZZ=ON
	cmake --build build-fuzz -j $(JOBS) --target $$(cd fuzz && ls *_fuzz.cpp | sed 's/\.cpp$$//' | tr '\n' ' ')
	@set -e; for f in fuzz/*_fuzz.cpp; do \
	  name=$$(basename $$f .cpp); mkdir -p build-fuzz/corpus/$$name; \
	  seeds=""; [ -d fuzz/seeds/$$name ] && seeds=fuzz/seeds/$$name; \
	  echo "fuzz: $$name for $(FUZZ_SECONDS)s"; \
	  build-fuzz/$$name -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 build-fuzz/corpus/$$name $$seeds \
	    > build-fuzz/$$name.log 2>&1 || { tail -40 build-fuzz/$$name.log; exit 1; }; \
	  tail -1 build-fuzz/$$name.log; \
	done

# Tests under AddressSanitizer and UndefinedBehaviorSanitizer; SANITIZE_TESTS picks them
# (a ctest regex; by default every parser, bad-input, runtime, compression and hub test).
SANITIZE_TESTS ?= Tokenizer|Llama2c|Gguf|Safetensors|HfCheckpoint|HfTokenizer|Kernels|ThreadPool|Transformer|Perplexity|Prune|Quantize|HeadImportance|CliBadInput|Crypto|BlobStore|BlobGc|SegmentPipeline|AuditLog|HubHttp|HfClient|ServeEndToEnd|RepoPath|TextWatermark|ImageWatermark|TextLabel|MediaKind|CliWatermarkTest.BadInput|ScanDataset|ScanTextEmbedding|CliScan
sanitize: deps
	cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLV_SANITIZE=ON
	cmake --build build-asan -j $(JOBS) --target lightvault lightvault_tests
	OMP_WAIT_POLICY=passive ctest --test-dir build-asan --output-on-failure -j $(JOBS) -R '$(SANITIZE_TESTS)'

bench: build
	bash bench/run.sh

bench-hub: build
	bash scripts/install-deps.sh --bench
	bash bench/hub/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) build-fuzz build-asan
