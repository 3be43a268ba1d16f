-- http_client URL: one GET through an HTTP handle: write() sends the request, the handle turns
-- "open" when the response is in.
local url = ...
sleep(1)
local h = syscall.connect(url)
print(("connect(%q); write()"):format(url))
h:write()
while true do
  local ev, p = coroutine.yield()
  if ev == "handle_status_change" and p.id == h.id then
    if p.status == "open" then break end
    if p.status == "error" then
      print("request failed: " .. tostring(p.error))
      return 1
    end
  end
end
local code = h:responseCode()
local body = h:read("*a")
h:close()
print(("response %d: %q"):format(code, body))
return code == 200 and 0 or 1
