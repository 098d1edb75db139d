#pragma once
// Moves the work on an upload's segments (hashing, encrypting, writing) off the thread that
// receives the bytes, so that receiving and sealing run on two cores at once.
//
// The producer calls write() with bytes of any length; they are cut into segments of
// `segment_size` and handed, in order, to `consume` on one worker thread. A full segment is
// handed on only once a further byte arrives, so finish() always passes a final segment
// (possibly empty, possibly full) with last = true, exactly once. At most `depth` segments
// exist at a time, so memory stays constant however large the upload; a producer that gets
// ahead of the worker waits. Segment buffers are zeroed before they are freed.
//
// The first error `consume` returns is kept: write() and finish() return it from then on and
// no further segment is consumed. One producer thread; the object is not copyable.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "lightvault/util/status.h"

namespace lv::hub {

class SegmentPipeline {
 public:
  using Consumer = std::function<Status(std::span<const uint8_t> segment, bool last)>;

  SegmentPipeline(size_t segment_size, int depth, Consumer consume);
  ~SegmentPipeline();  // stops the worker without consuming what is left
  SegmentPipeline(const SegmentPipeline&) = delete;
  SegmentPipeline& operator=(const SegmentPipeline&) = delete;

  Status write(std::span<const uint8_t> data);
  // Hands on the final segment and waits until the worker has consumed everything.
  Status finish();

 private:
  struct Segment {
    std::vector<uint8_t> bytes;
    size_t length = 0;
    bool last = false;
  };
  void run();
  // Queues the current segment and takes a free one (waiting for it). False after an error.
  bool hand_on(bool last);
  std::optional<Error> first_error();

  const size_t segment_size_;
  Consumer consume_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<Segment> full_, free_;  // guarded by mu_
  std::optional<Error> error_;       // guarded by mu_
  std::atomic<bool> failed_{false};  // error_ is set: lets write() check without the lock
  bool stopping_ = false;            // guarded by mu_
  bool idle_ = true;                 // guarded by mu_: the worker holds no segment
  Segment current_;                  // the producer's
  std::thread worker_;
};

}  // namespace lv::hub
