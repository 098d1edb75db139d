#pragma once
// What kind of content a file holds, from its first bytes, so that `lightvault detect` and
// `lightvault mark` are one command for every kind and each kind goes to its own detector.
#include <string_view>

namespace lv::mark {

enum class MediaKind { Empty, Text, Png, Jpeg, Binary };

// PNG and JPEG by their signatures; Binary when a NUL byte occurs in the first 8 KiB (text
// files never hold one); Text otherwise, whose encoding the text's reader checks.
MediaKind sniff_media(std::string_view bytes);

// "text", "PNG image", ... for messages.
const char* media_kind_name(MediaKind kind);

}  // namespace lv::mark
