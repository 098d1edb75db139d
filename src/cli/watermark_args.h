#pragma once
// Options shared by the commands that use a text watermark (run, detect): the key file and
// the green list's parameters, which detection must repeat as generation used them.
#include <string>

#include "cli/command.h"
#include "lightvault/mark/text_watermark.h"

namespace lv::cli {

struct WatermarkArgs {
  std::string key_path;
  mark::WatermarkParams params;

  void add_to(CLI::App& sub, bool with_delta) {
    sub.add_option("--watermark-key", key_path, "secret key file of the text watermark (at least 16 bytes)");
    sub.add_option("--watermark-gamma", params.gamma, "fraction of the vocabulary that is green")->capture_default_str();
    if (with_delta) sub.add_option("--watermark-delta", params.delta, "logit bias of green tokens")->capture_default_str();
    sub.add_option("--watermark-context", params.context, "previous tokens that seed the green list")->capture_default_str();
  }
  // The key's bytes, once the parameters are checked.
  Result<std::string> load_key() const {
    LV_RETURN_IF_ERROR(params.validate());
    return mark::load_watermark_key(key_path);
  }
};

}  // namespace lv::cli
