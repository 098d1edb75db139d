// libFuzzer target: a model card (README.md) is untrusted input that the hub's pages render.
// Front matter parsing, cmark-gfm's safe Markdown rendering and the page escaping must never
// crash, and no script, event handler or javascript: URL may come out of them.
//
//   make fuzz   (builds every fuzz/*_fuzz.cpp against the library)
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "lightvault/hub/service/model_card.h"
#include "lightvault/hub/web/html.h"
#include "lightvault/hub/web/markdown.h"

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto card = lv::hub::parse_model_card(text);
  std::string html = lower(lv::hub::web::render_markdown(card.ok() ? std::string_view(card->body) : text));
  // Markdown text may spell these words; only markup may not: a tag or an attribute value.
  if (html.find("<script") != std::string::npos || html.find("<iframe") != std::string::npos) std::abort();
  if (html.find("href=\"javascript:") != std::string::npos || html.find("src=\"javascript:") != std::string::npos) std::abort();
  std::string escaped = lv::hub::web::esc(text);
  if (escaped.find('<') != std::string::npos || escaped.find('"') != std::string::npos) std::abort();
  (void)lv::hub::web::looks_like_text(text);
  return 0;
}
