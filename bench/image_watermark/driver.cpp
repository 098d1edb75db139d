// The bench's bridge to the library: reads requests on stdin, each a text line followed by raw
// interleaved 8-bit pixels, and answers on stdout, so bench.py can decode and attack images
// with OpenCV and run our embedder and detector on exactly the pixels it gives the peer.
//   embed W H C PAYLOAD_HEX STRENGTH   -> "ok\n" + W*H*C bytes of the marked image
//   detect W H C                       -> one JSON line
//   time W H C REPS                    -> one JSON line: median embed and detect milliseconds,
//                                         wall clock and process CPU time; detect also on the
//                                         unmarked input (every hypothesis tried)
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "lightvault/mark/image_watermark.h"

namespace {

bool read_pixels(lv::mark::Image& image, int w, int h, int c) {
  image.width = w;
  image.height = h;
  image.channels = c;
  image.pixels.resize(static_cast<size_t>(w) * h * c);
  return std::fread(image.pixels.data(), 1, image.pixels.size(), stdin) == image.pixels.size();
}

double cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

void print_detection(const lv::mark::ImageWatermarkDetection& d, double ms) {
  char payload[24] = "null";
  if (d.payload) std::snprintf(payload, sizeof payload, "\"%016llx\"", static_cast<unsigned long long>(*d.payload));
  std::printf("{\"found\": %s, \"payload\": %s, \"bit_agreement\": %.4f, \"score\": %.4f, \"sync_z\": %.2f, "
              "\"scale_percent\": %d, \"angle_degrees\": %.3f, \"hypotheses\": %d, \"false_positive_bound\": %.3g, "
              "\"ms\": %.3f}\n",
              d.found ? "true" : "false", payload, d.bit_agreement, d.score, d.sync_z, d.scale_percent, d.angle_degrees,
              d.hypotheses, d.false_positive_bound, ms);
}

}  // namespace

int main() {
  const auto key = lv::mark::default_image_watermark_key();
  char line[256];
  lv::mark::Image image;
  while (std::fgets(line, sizeof line, stdin)) {
    char cmd[16] = {};
    int w = 0, h = 0, c = 0;
    if (std::sscanf(line, "%15s %d %d %d", cmd, &w, &h, &c) != 4 || !read_pixels(image, w, h, c)) {
      std::fprintf(stderr, "error: bad request: %s", line);
      return 2;
    }
    const std::string command = cmd;
    if (command == "embed") {
      unsigned long long payload = 0;
      double strength = 1;
      std::sscanf(line, "%*s %*d %*d %*d %llx %lf", &payload, &strength);
      lv::mark::ImageWatermarkOptions options;
      options.strength = strength;
      auto st = lv::mark::embed_image_watermark(image, payload, key, options);
      if (!st.ok()) {
        std::fprintf(stderr, "error: %s\n", st.error().message.c_str());
        return 2;
      }
      std::printf("ok\n");
      std::fwrite(image.pixels.data(), 1, image.pixels.size(), stdout);
    } else if (command == "detect") {
      const auto start = std::chrono::steady_clock::now();
      auto d = lv::mark::detect_image_watermark(image, key);
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      if (!d.ok()) {
        std::fprintf(stderr, "error: %s\n", d.error().message.c_str());
        return 2;
      }
      print_detection(*d, ms);
    } else if (command == "time") {
      int reps = 1;
      std::sscanf(line, "%*s %*d %*d %*d %d", &reps);
      std::vector<double> embed_ms, detect_ms, embed_cpu, detect_cpu, unmarked_ms, unmarked_cpu;
      bool found = true;
      for (int r = 0; r < std::max(reps, 1); ++r) {
        lv::mark::Image copy = image;
        const double c0 = cpu_ms();
        auto t0 = std::chrono::steady_clock::now();
        if (!lv::mark::embed_image_watermark(copy, 0x0123456789abcdefULL, key).ok()) return 2;
        auto t1 = std::chrono::steady_clock::now();
        const double c1 = cpu_ms();
        auto d = lv::mark::detect_image_watermark(copy, key);
        auto t2 = std::chrono::steady_clock::now();
        const double c2 = cpu_ms();
        found = found && d.ok() && d->found;
        embed_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        detect_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
        embed_cpu.push_back(c1 - c0);
        detect_cpu.push_back(c2 - c1);
        auto u = lv::mark::detect_image_watermark(image, key);
        auto t3 = std::chrono::steady_clock::now();
        unmarked_ms.push_back(std::chrono::duration<double, std::milli>(t3 - t2).count());
        unmarked_cpu.push_back(cpu_ms() - c2);
        found = found && u.ok() && !u->found;
      }
      std::printf("{\"embed_ms\": %.3f, \"detect_ms\": %.3f, \"embed_cpu_ms\": %.3f, \"detect_cpu_ms\": %.3f, "
                  "\"unmarked_detect_ms\": %.3f, \"unmarked_detect_cpu_ms\": %.3f, \"found\": %s}\n",
                  median(embed_ms), median(detect_ms), median(embed_cpu), median(detect_cpu), median(unmarked_ms),
                  median(unmarked_cpu), found ? "true" : "false");
    } else {
      std::fprintf(stderr, "error: unknown command %s\n", cmd);
      return 2;
    }
    std::fflush(stdout);
  }
  return 0;
}
