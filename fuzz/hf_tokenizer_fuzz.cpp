// libFuzzer target for the tokenizer.json loader: any input either fails cleanly or yields
// a tokenizer that encodes and decodes text to ids within its vocabulary.
//
// Seeds: run once with LV_HF_TOKENIZER_FUZZ_SEEDS=DIR to write small valid files there:
//   LV_HF_TOKENIZER_FUZZ_SEEDS=corpus ./hf_tokenizer_fuzz -runs=0 && ./hf_tokenizer_fuzz -max_total_time=60 corpus
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

#include "lightvault/model/hf_tokenizer.h"

namespace {

// A SentencePiece-style BPE tokenizer.json: specials, a few byte pieces, pieces and merges.
std::string seed_tokenizer(bool metaspace, bool pair_merges) {
  const std::string meta = "\xe2\x96\x81";
  std::string vocab = R"("<unk>": 0, "<s>": 1, "</s>": 2, "<0x21>": 3, "<0x0A>": 4)";
  int id = 5;
  for (std::string p : {"h", "e", "l", "o", "w", "r", "d", "ll", "he", "llo", "or"}) {
    vocab += ", \"" + p + "\": " + std::to_string(id++);
  }
  for (std::string p : {"", "h", "hello", "w"}) {  // "▁", "▁h", "▁hello", "▁w"
    vocab += ", \"" + meta + p + "\": " + std::to_string(id++);
  }
  const char* merges[][2] = {{"l", "l"}, {"h", "e"}, {"ll", "o"}, {"o", "r"}};
  std::string merge_list;
  for (const auto& m : merges) {
    if (!merge_list.empty()) merge_list += ", ";
    merge_list += pair_merges ? "[\"" + std::string(m[0]) + "\", \"" + m[1] + "\"]" : "\"" + std::string(m[0]) + " " + m[1] + "\"";
  }
  merge_list += pair_merges ? ", [\"" + meta + "\", \"h\"], [\"" + meta + "\", \"w\"]" : ", \"" + meta + " h\", \"" + meta + " w\"";
  std::string pre = metaspace
      ? R"("normalizer": null, "pre_tokenizer": {"type": "Metaspace", "replacement": ")" + meta +
            R"(", "prepend_scheme": "first", "split": false},)"
      : R"("normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": ")" + meta +
            R"("}, {"type": "Replace", "pattern": {"String": " "}, "content": ")" + meta + R"("}]}, "pre_tokenizer": null,)";
  return R"({"version": "1.0", "added_tokens": [{"id": 0, "content": "<unk>", "special": true},)"
         R"( {"id": 1, "content": "<s>", "special": true}, {"id": 2, "content": "</s>", "special": true}], )" +
         pre + R"( "model": {"type": "BPE", "unk_token": "<unk>", "byte_fallback": true, "vocab": {)" + vocab +
         R"(}, "merges": [)" + merge_list + "]}}";
}

void write_seeds(const std::string& dir) {
  int n = 0;
  for (bool metaspace : {false, true}) {
    for (bool pairs : {false, true}) {
      std::ofstream(dir + "/seed" + std::to_string(n++) + ".json") << seed_tokenizer(metaspace, pairs);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  if (const char* dir = std::getenv("LV_HF_TOKENIZER_FUZZ_SEEDS")) write_seeds(dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto tok = lv::parse_hf_tokenizer(text, "fuzz");
  if (!tok.ok()) return 0;
  const int n = tok->vocab_size();
  if (n <= 0 || tok->bos_id() < 0 || tok->bos_id() >= n || tok->eos_id() < 0 || tok->eos_id() >= n ||
      tok->unk_id() < 0 || tok->unk_id() >= n) {
    std::abort();
  }
  for (std::string_view sample : {"hello world", "Hello, World! 123 \xc3\xa9 \xe2\x9c\x93 <s>\n", " ", ""}) {
    auto ids = tok->encode(sample, true);
    if (!ids.ok()) std::abort();
    int prev = tok->bos_id();
    for (int id : ids.value()) {
      if (id < 0 || id >= n) std::abort();
      (void)tok->decode(prev, id);
      prev = id;
    }
  }
  return 0;
}
