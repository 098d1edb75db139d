#include "lightvault/hub/storage/blob_store_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "lightvault/hub/storage/crypto.h"

namespace lv::hub::io {

std::string errno_text() { return std::strerror(errno); }

Status make_dirs(const std::string& path, mode_t mode) {
  if (path.empty()) return Status::Ok();
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::Ok();
    return Error{path + ": exists and is not a directory"};
  }
  std::string parent = parent_dir(path);
  if (!parent.empty() && parent != path) LV_RETURN_IF_ERROR(make_dirs(parent, mode));
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) return Error{path + ": mkdir: " + errno_text()};
  return Status::Ok();
}

Status fsync_dir(const std::string& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Error{dir + ": open directory: " + errno_text()};
  int rc = ::fsync(fd);
  int e = errno;
  ::close(fd);
  if (rc != 0) return Error{dir + ": fsync: " + std::strerror(e)};
  return Status::Ok();
}

std::string parent_dir(const std::string& path) {
  auto pos = path.find_last_of('/');
  if (pos == std::string::npos) return ".";
  if (pos == 0) return "/";
  return path.substr(0, pos);
}

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

Result<std::string> random_name(size_t bytes) {
  std::string raw(bytes, '\0');
  LV_RETURN_IF_ERROR(crypto::random_bytes(reinterpret_cast<uint8_t*>(raw.data()), raw.size()));
  return crypto::hex_encode(crypto::as_bytes(raw));
}

Status write_all(int fd, const void* data, size_t n, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Error{path + ": write: " + errno_text()};
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return Status::Ok();
}

Status pread_exact(int fd, void* data, size_t n, uint64_t offset, const std::string& path) {
  char* p = static_cast<char*>(data);
  while (n > 0) {
    ssize_t r = ::pread(fd, p, n, static_cast<off_t>(offset));
    if (r < 0) {
      if (errno == EINTR) continue;
      return Error{path + ": read at offset " + std::to_string(offset) + ": " + errno_text()};
    }
    if (r == 0) return Error{path + ": unexpected end of file at offset " + std::to_string(offset)};
    p += r;
    n -= static_cast<size_t>(r);
    offset += static_cast<uint64_t>(r);
  }
  return Status::Ok();
}

Status write_file_atomic(const std::string& path, std::string_view data, mode_t mode, bool sync) {
  LV_ASSIGN_OR_RETURN(std::string suffix, random_name(8));
  std::string tmp = path + ".tmp-" + suffix;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Error{tmp + ": create: " + errno_text()};
  Status st = write_all(fd, data.data(), data.size(), tmp);
  if (st.ok() && ::fchmod(fd, mode) != 0) st = Error{tmp + ": fchmod: " + errno_text()};
  if (st.ok() && sync && ::fsync(fd) != 0) st = Error{tmp + ": fsync: " + errno_text()};
  ::close(fd);
  if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) st = Error{path + ": rename: " + errno_text()};
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  if (sync) LV_RETURN_IF_ERROR(fsync_dir(parent_dir(path)));
  return Status::Ok();
}

Result<std::string> read_file(const std::string& path, size_t max_size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{path + ": open: " + errno_text()};
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return Error{path + ": read: " + std::strerror(e)};
    }
    if (r == 0) break;
    out.append(buf, static_cast<size_t>(r));
    if (out.size() > max_size) {
      ::close(fd);
      return Error{path + ": file is larger than " + std::to_string(max_size) + " bytes"};
    }
  }
  ::close(fd);
  return out;
}

Status check_private_file(const std::string& path, std::string_view what) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Error{path + ": " + std::string(what) + ": " + errno_text()};
  if (!S_ISREG(st.st_mode)) return Error{path + ": " + std::string(what) + " is not a regular file"};
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Error{path + ": " + std::string(what) + " has mode " + mode +
                 "; it must be 0600 (chmod 600 " + path + ")"};
  }
  return Status::Ok();
}

}  // namespace lv::hub::io
