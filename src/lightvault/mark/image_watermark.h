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

// The decision rule: `found` only when the keyed check bits decoded with the payload equal the
// keyed hash of that payload, at one of image_watermark_hypotheses() (scale, angle, shift)
// hypotheses: at every scale, two shifts upright and two at the one angle (within about 3.4
// degrees either way) that the sync pattern picks (a choice that never looks at the check bits); so on an
// unmarked image P(found) <= false_positive_bound = hypotheses * 2^-check bits.
// The other figures are confidence measures of the best hypothesis; they do not decide.
struct ImageWatermarkDetection {
  bool found = false;
  std::optional<uint64_t> payload;  // set only when found
  double bit_agreement = 0;         // fraction of coded bits whose soft sign agrees with the decoded codeword
  double score = 0;                 // normalised correlation of the soft bits with that codeword (0 noise, 1 clean)
  double sync_z = 0;                // z-score of the synchronisation peak over all tile shifts
  double false_positive_bound = 0;  // probability of `found` on an unmarked image under the rule
  int hypotheses = 0;               // (scale, angle, shift) hypotheses the bound counts
  int scale_percent = 100;          // the scale at which the mark was found
  double angle_degrees = 0;         // the image's rotation since marking, counter-clockwise positive (0: upright)
};

// The number of hypotheses detect tries at most, and the resulting per-image bound.
int image_watermark_hypotheses();
double image_watermark_false_positive_bound();

Result<ImageWatermarkDetection> detect_image_watermark(const Image& image,
                                                       const ImageWatermarkKey& key);

}  // namespace lv::mark
