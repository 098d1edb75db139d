#pragma once
// Model cards as HTML: GitHub-flavoured Markdown (tables, strikethrough, autolinks, task
// lists) rendered by cmark-gfm in its safe mode. Raw HTML blocks and inline HTML become
// comments, links and images whose URL is javascript:, vbscript:, file: or a non-image data:
// get an empty URL, and invalid UTF-8 is replaced; the result is safe to put into a page.
#include <string>
#include <string_view>

namespace lv::hub::web {

std::string render_markdown(std::string_view markdown);

}  // namespace lv::hub::web
