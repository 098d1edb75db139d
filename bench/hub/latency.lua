-- wrk reporter for the page benchmarks: one line with the 50th and 95th percentile latency
-- (microseconds, from the request's first byte sent to the response's last byte read), the
-- number of requests, and the number of failures (non-2xx answers, socket errors, timeouts).
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("p50_us=%d p95_us=%d requests=%d failed=%d\n", latency:percentile(50),
    latency:percentile(95), summary.requests, e.status + e.connect + e.read + e.write + e.timeout))
end
