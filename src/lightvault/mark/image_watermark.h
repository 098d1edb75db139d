#pragma once
// An invisible, keyed 64-bit watermark carried in DCT coefficients of an image's luminance.
// (Design, and what it builds on, in image_watermark.cpp.)
// Contract: embed changes only what the mark needs (luminance of RGB/RGBA/grey pixels; alpha
// untouched) and keeps PSNR >= 40 dB at the default strength; detect never claims an unmarked
// image except with probability <= kFalsePositiveBound per image, by construction of its rule.
#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "lightvault/mark/image.h"
#include "lightvault/util/status.h"

namespace lv::mark {

// The key the watermark is spread with: 32 bytes. Without --key, a built-in default so that
// anyone with lightvault can check a mark made without a key.
using ImageWatermarkKey = std::array<uint8_t, 32>;
ImageWatermarkKey default_image_watermark_key();
// Reads a key file (32 raw bytes or 64 hex digits); errors name the file.
Result<ImageWatermarkKey> read_image_watermark_key(const std::string& path);

struct ImageWatermarkOptions {
  double strength = 1.0;  // scales the embedding amplitude; 1.0 is the default
};

Status embed_image_watermark(Image& image, uint64_t payload, const ImageWatermarkKey& key,
                             const ImageWatermarkOptions& options = {});

struct ImageWatermarkDetection {
  bool found = false;
  std::optional<uint64_t> payload;  // set only when found
  double bit_agreement = 0;         // fraction of coded bits that agree with the decoded word
  double score = 0;                 // the detection statistic the decision rule thresholds
  double false_positive_bound = 0;  // probability of `found` on an unmarked image under the rule
  int scale_percent = 100;          // the scale at which the mark was found
};

Result<ImageWatermarkDetection> detect_image_watermark(const Image& image,
                                                       const ImageWatermarkKey& key);

}  // namespace lv::mark
