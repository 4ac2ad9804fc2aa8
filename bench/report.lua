-- Shared by every scenario: one machine-readable line per run.
-- RESULT <name> <req/s> <p50 ms> <p99 ms> <non-2xx> <socket errors> <requests>
function report(name)
  return function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("RESULT %s %.0f %.3f %.3f %d %d %d\n", name,
      summary.requests / (summary.duration / 1e6),
      latency:percentile(50) / 1000, latency:percentile(99) / 1000,
      e.status, e.connect + e.read + e.write + e.timeout, summary.requests))
  end
end
