# The README's two commands: `make run` and `make test`. Everything else is a helper of theirs.
BUILD      ?= build
BUILD_TYPE ?= Release
JOBS       ?= $(shell nproc)
WERROR     ?= OFF
SHARED     := $(abspath ../shared/models)
LV         := $(BUILD)/lightvault

.PHONY: all deps build run test fuzz sanitize bench clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja: CMakeLists.txt | deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DLV_WERROR=$(WERROR)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# Until the hub lands, the main job is a real generation: a shared pretrained model when
# present, else a small random model written by `lightvault synth`.
run: build
	@if [ -f $(SHARED)/stories260K/stories260K.bin ]; then \
	  $(LV) run $(SHARED)/stories260K/stories260K.bin --tokenizer $(SHARED)/stories260K/tok512.bin \
	    -p "Once upon a time" -n 200 --temp 0; \
	else \
	  $(LV) synth --dim 256 --layers 4 --heads 8 --kv-heads 4 --hidden 688 --vocab 512 \
	    -o $(BUILD)/synth.bin --tokenizer-out $(BUILD)/synth.tok.bin && \
	  $(LV) run $(BUILD)/synth.bin --tokenizer $(BUILD)/synth.tok.bin -p "hello" -n 64 --temp 0; \
	fi

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

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
# (a ctest regex; by default every parser, bad-input, runtime and compression test).
SANITIZE_TESTS ?= Tokenizer|Llama2c|Gguf|Safetensors|HfCheckpoint|HfTokenizer|Kernels|Transformer|Perplexity|Prune|Quantize|HeadImportance|CliBadInput|Crypto|BlobStore|AuditLog
sanitize: deps
	cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLV_SANITIZE=ON
	cmake --build build-asan -j $(JOBS) --target lightvault lightvault_tests
	ctest --test-dir build-asan --output-on-failure -j $(JOBS) -R '$(SANITIZE_TESTS)'

bench: build
	bash bench/run.sh

clean:
	rm -rf $(BUILD) build-fuzz build-asan
