-- A website form pushing a lead with a digital-requests key's token.
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
wrk.method = "POST"
wrk.path = "/api/v1/leads"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("LEADS_TOKEN")
wrk.body = [[{"contact":{"first_name":"Ann","last_name":"Lee","email":"ann@example.com","phone":"+1 555 010 2030"},]] ..
  [["vehicle":{"vin":"1HGCM82633A004352","year":2024,"make":"Honda","model":"Accord","stock_number":"A123"},]] ..
  [["message":"Is it still available?","source":"website"}]]
done = report("leads_post")
