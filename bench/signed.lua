-- PAVE-style signed GET: each request carries the current second as
-- API-Timestamp and its signature, looked up from a table the setup
-- program computed (LuaJIT has no HMAC). The request is rebuilt once a
-- second, so wrk spends as little of the shared CPU as it can.
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
local signatures = dofile(os.getenv("SIGNATURES"))
local key = os.getenv("SIGNED_KEY")
local second, cached

request = function()
  local now = os.time()
  if now ~= second then
    second = now
    local ts = os.date("!%Y-%m-%dT%H:%M:%SZ", now)
    cached = wrk.format("GET", "/api/v1/key",
      { ["API-Key"] = key, ["API-Timestamp"] = ts, ["API-Token"] = signatures[ts] or "unsigned" })
  end
  return cached
end
done = report("signed_key")
