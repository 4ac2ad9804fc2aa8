dofile(os.getenv("BENCH_DIR") .. "/report.lua")
wrk.method = "GET"
wrk.path = "/api/v1/key"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BEARER_TOKEN")
done = report("bearer_key")
