-- wrk script: purchase accruals spread over customers c0..c99, each with a new event_id.
-- Environment: FANLOOP_API_KEY (the tenant's key), BENCH_RUN (makes event ids unique per run).
local key = os.getenv("FANLOOP_API_KEY")
local run = os.getenv("BENCH_RUN") or "0"
local n = 0
local headers = { ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }

request = function()
  n = n + 1
  local body = string.format(
    '{"event_id":"bench-%s-%d","kind":"purchase","amount_minor":1999,"currency":"USD"}', run, n)
  return wrk.format("POST", "/v1/customers/c" .. (n % 100) .. "/points/accruals", headers, body)
end

-- One machine-readable line: requests, duration (µs), non-2xx answers, socket errors,
-- p50, p99, max latency (µs).
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d %d\n", summary.requests, summary.duration,
    e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
