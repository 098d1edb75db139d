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
test: build tests/hub/node_modules tests/web/node_modules tests/c2pa/node_modules
	OMP_WAIT_POLICY=passive ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# The real @huggingface/hub client that the hub's tests talk to (npm, pinned by the lock file).
tests/hub/node_modules: tests/hub/package.json tests/hub/package-lock.json
	cd tests/hub && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# puppeteer-core (drives Debian's chromium; it downloads no browser) and axe-core for the web
# interface's browser test.
tests/web/node_modules: tests/web/package.json tests/web/package-lock.json
	cd tests/web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# An independent C2PA reader (@trustnxt/c2pa-ts, pure TypeScript, offline) that checks our manifests.
# Not `npm ci`: the registry here serves no @cbor-extract/* (cbor-x's optional native speed-up,
# whose JavaScript fallback is used instead), so the lock cannot list them and `npm ci` refuses
# it; `install --no-save` still takes every version from the lock and leaves it as it is.
tests/c2pa/node_modules: tests/c2pa/package.json tests/c2pa/package-lock.json
	cd tests/c2pa && npm install --no-save --omit=optional --no-audit --no-fund --loglevel=error
	@touch $@

# One clang build with AddressSanitizer and UndefinedBehaviorSanitizer, coverage-instrumented
# for libFuzzer, serves both the sanitizer tests and the fuzz targets, so CI compiles the
# library once for the two. -O1 and line tables only: symbolized stacks at half the compile time.
SAN_BUILD := build-sanitize
$(SAN_BUILD)/build.ninja: CMakeLists.txt | deps
	CC=clang CXX=clang++ cmake -S . -B $(SAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DLV_SANITIZE=ON -DLV_FUZZ=ON

# Tests under the sanitizers; SANITIZE_TESTS picks them (a ctest regex; by default every
# parser, bad-input, runtime, compression and hub test).
SANITIZE_TESTS ?= Tokenizer|Llama2c|Gguf|Safetensors|HfCheckpoint|HfTokenizer|Kernels|ThreadPool|Transformer|Perplexity|Prune|Quantize|HeadImportance|CompressInputDtype|CliBadInput|Crypto|BlobStore|BlobGc|SegmentPipeline|AuditLog|HubService|HubHttp|HfClient|ServeEndToEnd|WebUi|WebHtml|WebMarkdown|WebSessionStore|RepoPath|TextWatermark|TextLabel|MediaKind|CliWatermarkTest.BadInput|ScanDataset|ScanTextEmbedding|ScanRepeatedSentences|CliScan|ImageIo|ImageLabel|AigcMetadata|ImageMarker|CliImageMark|Cbor|Jumbf|CoseSign1|C2paCredentials|C2paContainer|C2paManifest|ImageWatermark|HubUri|PayloadRegistry|OrgKeys|TextTokenizerFile|ContentService|ComplaintHttp|ComplaintService|ComplaintText|ComplaintPages|ComplaintWeb|ClientRateLimiter|ModelCard|CardCheck|TrailTally|EvaluationFiles|ComplianceHtml|ComplianceEndToEnd|ComplianceHttp|Backward|ScanShiftCheck|ScanSpectral|Ablator
sanitize: deps $(SAN_BUILD)/build.ninja
	cmake --build $(SAN_BUILD) -j $(JOBS) --target lightvault lightvault_tests
	OMP_WAIT_POLICY=passive ctest --test-dir $(SAN_BUILD) --output-on-failure -j $(JOBS) -R '$(SANITIZE_TESTS)'

# libFuzzer targets, each run for FUZZ_SECONDS, in the sanitizer build.
FUZZ_SECONDS ?= 30
fuzz: deps $(SAN_BUILD)/build.ninja
	cmake --build $(SAN_BUILD) -j $(JOBS) --target $$(cd fuzz && ls *_fuzz.cpp | sed 's/\.cpp$$//' | tr '\n' ' ')
	@set -e; for f in fuzz/*_fuzz.cpp; do \
	  name=$$(basename $$f .cpp); mkdir -p $(SAN_BUILD)/corpus/$$name; \
	  seeds=""; [ -d fuzz/seeds/$$name ] && seeds=fuzz/seeds/$$name; \
	  echo "fuzz: $$name for $(FUZZ_SECONDS)s"; \
	  $(SAN_BUILD)/$$name -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 $(SAN_BUILD)/corpus/$$name $$seeds \
	    > $(SAN_BUILD)/$$name.log 2>&1 || { tail -40 $(SAN_BUILD)/$$name.log; exit 1; }; \
	  tail -1 $(SAN_BUILD)/$$name.log; \
	done

bench: build
	bash bench/run.sh

bench-hub: build
	bash scripts/install-deps.sh --bench
	bash bench/hub/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(SAN_BUILD)
