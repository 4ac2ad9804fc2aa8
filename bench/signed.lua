-- PAVE-style signed GET: API-Timestamp is the second the run starts and
-- API-Token its signature, looked up from a table the setup program
-- computed (LuaJIT has no HMAC). A run lasts seconds, well within the
-- five minutes a timestamp may be off, and the server verifies the
-- signature on every request as it would a fresh one (it keeps no memory
-- of signatures it has seen). Set once per thread in init, the request is
-- static, so wrk sends it without calling Lua per request: the CPU it
-- shares with the server is spent as on /healthz and Bearer, whose
-- requests are static too.
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
local signatures = dofile(os.getenv("SIGNATURES"))

wrk.method = "GET"
wrk.path = "/api/v1/key"

init = function(args)
  local ts = os.date("!%Y-%m-%dT%H:%M:%SZ", os.time())
  wrk.headers["API-Key"] = os.getenv("SIGNED_KEY")
  wrk.headers["API-Timestamp"] = ts
  wrk.headers["API-Token"] = signatures[ts] or "unsigned"
end
done = report("signed_key")
