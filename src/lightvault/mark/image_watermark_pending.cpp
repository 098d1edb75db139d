// TEMPORARY, deleted when branch img-watermark (which defines these in image_watermark.cpp)
// is merged: it lets the img-label branch link and run its CLI without the watermark.
#include "lightvault/mark/image_watermark.h"

namespace lv::mark {

ImageWatermarkKey default_image_watermark_key() { return ImageWatermarkKey{}; }

Result<ImageWatermarkKey> read_image_watermark_key(const std::string& path) {
  return make_error(path, "watermark not built yet");
}

Status embed_image_watermark(Image&, uint64_t, const ImageWatermarkKey&, const ImageWatermarkOptions&) {
  return make_error("watermark", "watermark not built yet");
}

Result<ImageWatermarkDetection> detect_image_watermark(const Image&, const ImageWatermarkKey&) {
  return make_error("watermark", "watermark not built yet");
}

}  // namespace lv::mark
