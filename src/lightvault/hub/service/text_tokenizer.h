#pragma once
// Detecting the text watermark needs the tokenizer of the model that generated the text: the
// green lists are over its token ids. Model and tokenizer formats are the engine's, which the
// hub does not link; whoever links both (`lightvault serve`, tests) passes a TextTokenizerLoader
// in ServerOptions. Without one the hub cannot detect text watermarks (and says so).
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lightvault/hub/catalog/catalog.h"
#include "lightvault/util/status.h"

namespace lv::hub {

class TextTokenizer {
 public:
  virtual ~TextTokenizer() = default;
  // The token ids of `text`, without BOS, as the model's generation produced them. Fails,
  // naming `source`, on text the tokenizer cannot take (invalid UTF-8). Safe to call from
  // several threads at once.
  virtual Result<std::vector<int>> encode(std::string_view text, const std::string& source) const = 0;
};

// Reads the tokenizer in the file at `path`: a tokenizer.json, a llama2.c tokenizer .bin or a
// GGUF model. Errors name `name` (the file's path in its repository), not the temporary path.
using TextTokenizerLoader =
    std::function<Result<std::unique_ptr<TextTokenizer>>(const std::string& path, const std::string& name)>;

// Which file of a revision holds its tokenizer, by name, first match wins: tokenizer.json,
// tokenizer.bin, a .bin whose name starts with "tok" (llama2.c keeps the tokenizer beside the
// checkpoint, as tok512.bin), then the smallest .gguf (GGUF models carry their tokenizer).
// Paths are compared by their last component, case-insensitively; nullopt when none fits.
std::optional<FileEntry> tokenizer_file(const std::vector<FileEntry>& files);

}  // namespace lv::hub
