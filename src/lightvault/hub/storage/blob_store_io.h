#pragma once
// Small POSIX file helpers shared by the storage layer (master keys, blob store, audit log).
// Every error names the path and the failing call.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

#include "lightvault/util/status.h"

namespace lv::hub::io {

// Creates `path` and missing parents with `mode` (existing directories are left as they are).
Status make_dirs(const std::string& path, mode_t mode = 0700);
// fsyncs a directory (after renames/creates inside it).
Status fsync_dir(const std::string& dir);
// Writes `data` to `path` atomically: PATH.tmp-<random> with `mode`, fsync, rename, fsync dir.
Status write_file_atomic(const std::string& path, std::string_view data, mode_t mode, bool sync = true);
// Reads a whole small file (errors if it is larger than `max_size`).
Result<std::string> read_file(const std::string& path, size_t max_size = 1 << 20);
// Error unless `path` is a regular file with no group/other permission bits, e.g.
// "PATH: master key file has mode 0644; it must be 0600 (chmod 600 PATH)".
Status check_private_file(const std::string& path, std::string_view what);
bool exists(const std::string& path);
std::string parent_dir(const std::string& path);
// Random lowercase hex name of `bytes` random bytes.
Result<std::string> random_name(size_t bytes = 16);
// write(2) / pwrite(2) / pread(2) loops.
Status write_all(int fd, const void* data, size_t n, const std::string& path);
Status pread_exact(int fd, void* data, size_t n, uint64_t offset, const std::string& path);
std::string errno_text();

}  // namespace lv::hub::io
