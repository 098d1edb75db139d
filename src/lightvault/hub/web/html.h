#pragma once
// Building blocks of the web pages' HTML: escaping for text and attribute values, URL
// encoding of path parts and query values, and a few formats (sizes, times).
#include <cstdint>
#include <string>
#include <string_view>

namespace lv::hub::web {

// Text or a double-quoted attribute value: & < > " ' escaped, invalid UTF-8 replaced (U+FFFD),
// control characters but tab and newline dropped.
std::string esc(std::string_view text);
// A path inside a URL: each segment percent-encoded, '/' kept.
std::string url_path(std::string_view path);
// A query value (application/x-www-form-urlencoded).
std::string url_query(std::string_view value);
// "1.2 MB", "512 B" (decimal units, as the Hugging Face Hub shows sizes).
std::string human_size(uint64_t bytes);
// "2026-11-30 07:12 UTC" from unix seconds; "" for 0.
std::string human_time(int64_t unix_seconds);
// Whether the bytes look like text worth previewing: valid UTF-8 without NUL bytes.
bool looks_like_text(std::string_view bytes);

}  // namespace lv::hub::web
