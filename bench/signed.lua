-- PAVE-style signed GET: each request carries the current second as
-- API-Timestamp and its signature, looked up from a table the setup
-- program computed (LuaJIT has no HMAC).
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
local signatures = dofile(os.getenv("SIGNATURES"))
local key = os.getenv("SIGNED_KEY")
local last, cached

request = function()
  local ts = os.date("!%Y-%m-%dT%H:%M:%SZ")
  if ts ~= last then
    last = ts
    cached = wrk.format("GET", "/api/v1/key",
      { ["API-Key"] = key, ["API-Timestamp"] = ts, ["API-Token"] = signatures[ts] or "unsigned" })
  end
  return cached
end
done = report("signed_key")
