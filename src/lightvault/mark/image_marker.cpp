#include "lightvault/mark/image_marker.h"

#include <openssl/rand.h>

#include <cmath>
#include <cstdio>

namespace lv::mark {

std::string payload_hex(uint64_t payload) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(payload));
  return hex;
}

Result<uint64_t> parse_payload_hex(std::string_view hex) {
  if (hex.size() != 16) return make_error("--payload", "\"" + std::string(hex) + "\" is not 16 hex digits");
  uint64_t value = 0;
  for (char c : hex) {
    int digit = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
    if (digit < 0) return make_error("--payload", "\"" + std::string(hex) + "\" is not 16 hex digits");
    value = value << 4 | static_cast<uint64_t>(digit);
  }
  return value;
}

uint64_t random_image_payload() {
  uint64_t payload = 0;
  // RAND_bytes fails only when the OS cannot seed it, where nothing random is to be had.
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&payload), sizeof payload) != 1) std::abort();
  return payload;
}

Result<MarkedImage> mark_image(std::string_view bytes, const std::string& name, const ImageMarkOptions& options,
                               LabelRenderer* renderer) {
  MarkedImage marked;
  LV_ASSIGN_OR_RETURN(marked.image, decode_image(bytes, name));
  if (!options.label.empty()) {
    std::unique_ptr<LabelRenderer> own;
    if (renderer == nullptr) {
      LV_ASSIGN_OR_RETURN(own, LabelRenderer::for_text(options.label));
      renderer = own.get();
    }
    LV_ASSIGN_OR_RETURN(DrawnLabel drawn, draw_image_label(marked.image, options.label, options.corner, *renderer));
    marked.label = drawn;
  }
  if (options.watermark) {
    // After the label, so the plate's pixels carry the mark like the rest.
    const ImageWatermarkKey key = options.key ? *options.key : default_image_watermark_key();
    if (Status s = embed_image_watermark(marked.image, options.payload, key); !s.ok()) {
      return make_error(name, s.error().message);
    }
  }
  LV_ASSIGN_OR_RETURN(std::string encoded, encode_image(marked.image, options.write));
  LV_ASSIGN_OR_RETURN(marked.bytes, attach_aigc_metadata(encoded, bytes, options.aigc, name));
  if (!options.c2pa_key_path.empty() || !options.c2pa_cert_path.empty()) {
    if (options.c2pa_key_path.empty() || options.c2pa_cert_path.empty()) {
      return make_error("--c2pa-key/--c2pa-cert", "C2PA signing needs both the key and the certificate chain");
    }
    LV_ASSIGN_OR_RETURN(marked.bytes, attach_c2pa(marked.bytes, marked.image.format, options.c2pa_key_path,
                                                  options.c2pa_cert_path));
  }
  return marked;
}

Result<ImageMarks> inspect_image(std::string_view bytes, const std::string& name, const ImageWatermarkKey& key) {
  LV_ASSIGN_OR_RETURN(Image image, decode_image(bytes, name));
  ImageMarks marks;
  marks.width = image.width;
  marks.height = image.height;
  marks.format = image.format;
  if (auto detection = detect_image_watermark(image, key); detection.ok()) {
    marks.watermark = *detection;
  } else {
    marks.watermark_error = detection.error().message;
  }
  if (auto aigc = read_aigc_metadata(bytes, name); aigc.ok()) {
    marks.aigc = *aigc;
  } else {
    marks.aigc_error = aigc.error().message;
  }
  if (auto c2pa = read_c2pa(bytes, name); c2pa.ok()) {
    marks.c2pa = *c2pa;
  } else {
    marks.c2pa_error = c2pa.error().message;
  }
  return marks;
}

nlohmann::ordered_json image_marks_json(const ImageMarks& marks) {
  nlohmann::ordered_json watermark = {{"found", false}, {"payload", nullptr}};
  if (marks.watermark) {
    const ImageWatermarkDetection& d = *marks.watermark;
    watermark["found"] = d.found;
    if (d.found && d.payload) watermark["payload"] = payload_hex(*d.payload);
    watermark["bit_agreement"] = d.bit_agreement;
    watermark["score"] = d.score;
    watermark["sync_z"] = d.sync_z;
    watermark["false_positive_bound"] = d.false_positive_bound;
    watermark["scale_percent"] = d.scale_percent;
    watermark["angle_degrees"] = std::round(d.angle_degrees * 100) / 100;  // the estimate is good to about 0.1
  } else {
    watermark["error"] = marks.watermark_error;
  }
  nlohmann::ordered_json aigc = nullptr;
  if (marks.aigc) aigc = nlohmann::ordered_json::parse(aigc_json(*marks.aigc));
  nlohmann::ordered_json metadata = {{"aigc", aigc}};
  if (!marks.aigc_error.empty()) metadata["error"] = marks.aigc_error;
  nlohmann::ordered_json c2pa = {{"present", false}, {"valid", false}};
  if (marks.c2pa) {
    c2pa = nlohmann::ordered_json::parse(c2pa_report_json(*marks.c2pa).dump());
  } else if (!marks.c2pa_error.empty()) {
    c2pa["error"] = marks.c2pa_error;
  }
  return {{"watermark", watermark}, {"metadata", metadata}, {"c2pa", c2pa}};
}

}  // namespace lv::mark
