#include "lightvault/mark/media_kind.h"

#include <algorithm>

namespace lv::mark {

MediaKind sniff_media(std::string_view bytes) {
  if (bytes.empty()) return MediaKind::Empty;
  if (bytes.starts_with("\x89PNG\r\n\x1a\n")) return MediaKind::Png;
  if (bytes.starts_with("\xff\xd8\xff")) return MediaKind::Jpeg;
  if (bytes.substr(0, 8192).find('\0') != std::string_view::npos) return MediaKind::Binary;
  return MediaKind::Text;
}

const char* media_kind_name(MediaKind kind) {
  switch (kind) {
    case MediaKind::Empty: return "empty file";
    case MediaKind::Text: return "text";
    case MediaKind::Png: return "PNG image";
    case MediaKind::Jpeg: return "JPEG image";
    case MediaKind::Binary: return "binary data";
  }
  return "unknown";
}

}  // namespace lv::mark
