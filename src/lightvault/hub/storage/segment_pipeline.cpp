#include "lightvault/hub/storage/segment_pipeline.h"

#include <algorithm>
#include <cstring>

#include "lightvault/hub/storage/crypto.h"

namespace lv::hub {

SegmentPipeline::SegmentPipeline(size_t segment_size, int depth, Consumer consume)
    : segment_size_(segment_size), consume_(std::move(consume)) {
  for (int i = 0; i < std::max(depth, 2) - 1; ++i) free_.push_back(Segment{std::vector<uint8_t>(segment_size)});
  current_.bytes.resize(segment_size);
  worker_ = std::thread([this] { run(); });
}

SegmentPipeline::~SegmentPipeline() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  changed_.notify_all();
  worker_.join();
  auto wipe = [](Segment& s) { crypto::secure_zero(s.bytes.data(), s.bytes.size()); };
  wipe(current_);
  for (auto& s : full_) wipe(s);
  for (auto& s : free_) wipe(s);
}

std::optional<Error> SegmentPipeline::first_error() {
  std::lock_guard lock(mu_);
  return error_;
}

bool SegmentPipeline::hand_on(bool last) {
  current_.last = last;
  std::unique_lock lock(mu_);
  if (error_) return false;
  full_.push_back(std::move(current_));
  changed_.notify_all();
  if (last) return true;
  changed_.wait(lock, [&] { return !free_.empty() || error_; });
  if (error_) return false;
  current_ = std::move(free_.front());
  free_.pop_front();
  current_.length = 0;
  return true;
}

Status SegmentPipeline::write(std::span<const uint8_t> data) {
  size_t pos = 0;
  while (pos < data.size()) {
    if (current_.length == segment_size_ && !hand_on(false)) return *first_error();
    size_t n = std::min(data.size() - pos, segment_size_ - current_.length);
    std::memcpy(current_.bytes.data() + current_.length, data.data() + pos, n);
    current_.length += n;
    pos += n;
  }
  if (failed_.load(std::memory_order_acquire)) return *first_error();
  return Status::Ok();
}

Status SegmentPipeline::finish() {
  if (!hand_on(true)) return *first_error();
  std::unique_lock lock(mu_);
  changed_.wait(lock, [&] { return (full_.empty() && idle_) || error_; });
  if (error_) return *error_;
  return Status::Ok();
}

void SegmentPipeline::run() {
  std::unique_lock lock(mu_);
  while (true) {
    changed_.wait(lock, [&] { return stopping_ || !full_.empty(); });
    if (stopping_ || error_) return;
    Segment s = std::move(full_.front());
    full_.pop_front();
    idle_ = false;
    lock.unlock();
    Status st = consume_(std::span<const uint8_t>(s.bytes.data(), s.length), s.last);
    lock.lock();
    idle_ = true;
    free_.push_back(std::move(s));
    if (!st.ok() && !error_) {
      error_ = st.error();
      failed_.store(true, std::memory_order_release);
    }
    changed_.notify_all();
    if (error_) return;
  }
}

}  // namespace lv::hub
