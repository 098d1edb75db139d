#pragma once
// Prints an HTML document to PDF with Debian's chromium in headless mode (the browser the web
// interface's tests already use), honouring the document's print style sheet: page breaks,
// margins, A4. Nothing is fetched: the document is written to a private temporary folder and
// opened from there, with the network off.
#include <string>

#include "lightvault/util/status.h"

namespace lv::hub {

// The browser used: $LIGHTVAULT_CHROMIUM, else the first of chromium, chromium-browser,
// google-chrome on PATH; an error saying how to get one when there is none.
Result<std::string> find_chromium();

// Writes `html` as a PDF to `pdf_path` (replaced only when printing succeeded). The error
// names the browser and what it printed on failure; a browser that runs past
// `timeout_seconds` is stopped.
Status print_html_to_pdf(const std::string& html, const std::string& pdf_path, int timeout_seconds = 120);

}  // namespace lv::hub
