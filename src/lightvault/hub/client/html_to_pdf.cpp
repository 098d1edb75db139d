#include "lightvault/hub/client/html_to_pdf.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace lv::hub {

namespace fs = std::filesystem;

namespace {

// Removes the temporary folder whatever happens.
struct TempFolder {
  fs::path path;
  ~TempFolder() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
};

std::string read_text(const fs::path& path, size_t max) {
  std::ifstream in(path, std::ios::binary);
  std::string text(max, '\0');
  in.read(text.data(), static_cast<std::streamsize>(max));
  text.resize(static_cast<size_t>(in.gcount()));
  return text;
}

}  // namespace

Result<std::string> find_chromium() {
  if (const char* env = std::getenv("LIGHTVAULT_CHROMIUM"); env && *env) {
    if (::access(env, X_OK) != 0) return make_error("LIGHTVAULT_CHROMIUM", std::string(env) + " is not an executable");
    return std::string(env);
  }
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  std::vector<std::string> folders;
  for (std::string d; std::getline(dirs, d, ':');) folders.push_back(d.empty() ? "." : d);
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
    for (auto& d : folders) {
      fs::path candidate = fs::path(d) / name;
      if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    }
  }
  return make_error("pdf", "no chromium on PATH to print the PDF with (Debian: apt-get install chromium; or set LIGHTVAULT_CHROMIUM)");
}

Status print_html_to_pdf(const std::string& html, const std::string& pdf_path, int timeout_seconds) {
  LV_ASSIGN_OR_RETURN(std::string browser, find_chromium());
  TempFolder tmp;
  std::error_code ec;
  tmp.path = fs::temp_directory_path(ec) / ("lightvault-pdf-" + std::to_string(::getpid()) + "-" +
                                            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  if (ec || !fs::create_directories(tmp.path, ec)) return make_error(tmp.path.string(), "cannot create a temporary folder");
  fs::permissions(tmp.path, fs::perms::owner_all, ec);
  fs::path page = tmp.path / "report.html", out = tmp.path / "report.pdf", log = tmp.path / "browser.log";
  {
    std::ofstream f(page, std::ios::binary);
    f << html;
    if (!f) return make_error(page.string(), "cannot write");
  }
  std::vector<std::string> args = {browser,
                                   "--headless",
                                   "--no-sandbox",  // root in containers; the page is our own document, no script
                                   "--disable-gpu",
                                   "--disable-dev-shm-usage",
                                   "--no-first-run",
                                   "--disable-extensions",
                                   "--proxy-server=127.0.0.1:9",  // nothing may be fetched
                                   "--user-data-dir=" + (tmp.path / "profile").string(),
                                   "--no-pdf-header-footer",
                                   "--print-to-pdf=" + out.string(),
                                   "file://" + page.string()};
  pid_t pid = ::fork();
  if (pid < 0) return make_error(browser, "cannot start");
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int null_in = ::open("/dev/null", O_RDONLY);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    if (null_in >= 0) ::dup2(null_in, 0);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(browser.c_str(), argv.data());
    ::_exit(127);
  }
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  for (;;) {
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0) return make_error(browser, "lost track of the browser process");
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return make_error(browser, "did not finish printing within " + std::to_string(timeout_seconds) + " s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !fs::exists(out) || read_text(out, 5) != "%PDF-") {
    std::string said = read_text(log, 2000);
    for (auto& c : said) {
      if (c == '\n') c = ' ';
    }
    return make_error(browser, "printing to PDF failed" + (said.empty() ? std::string() : ": " + said));
  }
  fs::copy_file(out, pdf_path, fs::copy_options::overwrite_existing, ec);
  if (ec) return make_error(pdf_path, "cannot write: " + ec.message());
  return Status::Ok();
}

}  // namespace lv::hub
