#pragma once
// Marking an AI-generated image and reading its marks back, one function each, so the CLI
// and the hub run the same steps: decode -> visible label -> invisible watermark -> encode
// (in the input's format) -> GB 45438 AIGC metadata, the input's other metadata kept -> a C2PA
// manifest, last because its hard binding covers the final bytes.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "lightvault/mark/aigc_metadata.h"
#include "lightvault/mark/c2pa.h"
#include "lightvault/mark/image.h"
#include "lightvault/mark/image_label.h"
#include "lightvault/mark/image_watermark.h"
#include "lightvault/util/status.h"

namespace lv::mark {

// 16 lowercase hex digits, and the inverse (exactly 16 hex digits; the error names --payload).
std::string payload_hex(uint64_t payload);
Result<uint64_t> parse_payload_hex(std::string_view hex);
// A payload from OpenSSL's CSPRNG, so that ids issued by different runs do not collide.
uint64_t random_image_payload();

struct ImageMarkOptions {
  std::string label{kDefaultImageLabel};  // empty: no visible label
  LabelCorner corner = LabelCorner::BottomRight;
  bool watermark = true;
  uint64_t payload = 0;
  std::optional<ImageWatermarkKey> key;  // nullopt: the built-in default key
  AigcFields aigc;                       // written as given (fill ProduceID before)
  ImageWriteOptions write;
  // A C2PA manifest signed with this ES256 key and certificate chain (PEM files); both or
  // neither.
  std::string c2pa_key_path, c2pa_cert_path;
};

struct MarkedImage {
  std::string bytes;
  Image image;                     // the marked pixels, as encoded
  std::optional<DrawnLabel> label;  // where the label went, when there is one
};

// Marks the JPEG or PNG `bytes`; `name` (the input file) is the context of errors. `renderer`
// draws the label; when null, one is found for options.label.
Result<MarkedImage> mark_image(std::string_view bytes, const std::string& name, const ImageMarkOptions& options,
                               LabelRenderer* renderer = nullptr);

// What an image carries. Only an image that cannot be decoded is an error; a layer whose
// reader fails (a watermark detector that cannot run on it, metadata exiv2 cannot parse)
// reports that failure in its own *_error and the others still report.
struct ImageMarks {
  int width = 0, height = 0;
  ImageFormat format = ImageFormat::Png;
  std::optional<ImageWatermarkDetection> watermark;
  std::string watermark_error;
  std::optional<AigcFields> aigc;
  std::string aigc_error;
  std::optional<C2paReport> c2pa;
  std::string c2pa_error;
};
Result<ImageMarks> inspect_image(std::string_view bytes, const std::string& name, const ImageWatermarkKey& key);

// {"watermark": {"found", "payload" (hex or null), "bit_agreement", "score", "sync_z",
//  "false_positive_bound", "scale_percent", "angle_degrees"}, "metadata": {"aigc": {...} or null},
//  "c2pa": c2pa_report_json(...)}; "error" keys appear where a layer failed.
nlohmann::ordered_json image_marks_json(const ImageMarks& marks);

}  // namespace lv::mark
