-- http_server URL [COUNT]: serves listen(URL) (CraftOS-PC's HTTP server), answering every request
-- with a greeting; exits after COUNT requests when COUNT is given.
local url, count = ...
syscall.listen(url)
print(("listen(%q)"):format(url))
local served = 0
while not count or served < count do
  local ev, p = coroutine.yield()
  if ev == "network_request" then
    local r = p.handle
    local path = r:path()
    print(("network_request: %s %s; answering 200"):format(r:method(), path))
    r:setResponseHeader("Content-Type", "text/plain")
    r:write("Hello from " .. url .. ", you asked for " .. path .. "\n")
    r:close()
    served = served + 1
  end
end
