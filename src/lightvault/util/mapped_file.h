#pragma once
// A read-only memory mapping of a whole file. Weights point into it, so a Model keeps the
// mapping alive through a shared_ptr for as long as any tensor refers to it.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "lightvault/util/status.h"

namespace lv {

class MappedFile {
 public:
  // Maps `path` read-only. Errors name the path and the failing system call.
  static Result<std::shared_ptr<MappedFile>> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile(std::string path, const uint8_t* data, size_t size)
      : path_(std::move(path)), data_(data), size_(size) {}
  std::string path_;
  const uint8_t* data_;
  size_t size_;
};

}  // namespace lv
