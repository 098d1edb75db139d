#include "cli/model_args.h"

#include <fstream>
#include <sstream>

namespace lv::cli {

Result<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path, "cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace lv::cli
