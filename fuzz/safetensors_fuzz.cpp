// libFuzzer target for the safetensors header parser: any input either fails cleanly or
// yields a header whose tensors tile the data buffer inside the input.
//
// Seeds: run once with LV_SAFETENSORS_FUZZ_SEEDS=DIR to write a small valid file there:
//   LV_SAFETENSORS_FUZZ_SEEDS=corpus ./safetensors_fuzz -runs=0 && ./safetensors_fuzz -max_total_time=60 corpus
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "lightvault/model/safetensors.h"

namespace {

void write_seeds(const std::string& dir) {
  std::vector<float> f32 = {1.0f, -2.0f, 0.5f, 3.0f, 0.0f, 8.0f};
  std::vector<uint16_t> f16 = {0x3c00, 0xc000, 0x3800};
  std::vector<uint16_t> bf16 = {0x3f80, 0xc000};
  int64_t i64 = 42;
  (void)lv::write_safetensors(dir + "/seed.safetensors",
                              {{"model.norm.weight", lv::StDType::F32, {2, 3}, f32.data()},
                               {"h", lv::StDType::F16, {3}, f16.data()},
                               {"b", lv::StDType::BF16, {1, 2}, bf16.data()},
                               {"s", lv::StDType::I64, {}, &i64},
                               {"empty", lv::StDType::U8, {0}, nullptr}},
                              {{"format", "pt"}});
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  if (const char* dir = std::getenv("LV_SAFETENSORS_FUZZ_SEEDS")) write_seeds(dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto header = lv::parse_safetensors(data, size, "fuzz");
  if (!header.ok()) return 0;
  if (header->data_offset > size || header->data_offset + header->data_size != size) std::abort();
  uint64_t covered = 0;
  volatile uint8_t sink = 0;
  for (const auto& t : header->tensors) {
    if (t.begin != covered || t.end < t.begin || t.end > header->data_size) std::abort();
    if (t.nbytes() != static_cast<uint64_t>(t.numel()) * lv::st_dtype_size(t.dtype)) std::abort();
    if (header->find(t.name) != &t) std::abort();
    if (t.nbytes() > 0) sink = sink ^ data[header->data_offset + t.begin] ^ data[header->data_offset + t.end - 1];
    covered = t.end;
  }
  if (covered != header->data_size) std::abort();
  return 0;
}
