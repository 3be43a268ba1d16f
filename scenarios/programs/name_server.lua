-- name_server PORT NAME=IP...: a DNS-style name service over PDP. A datagram "NAME" is answered
-- with "NAME=IP", or "NAME=?" when the name is unknown (run it as a daemon).
local port = ...
local names = {}
for i = 2, select("#", ...) do
  local name, ip = tostring((select(i, ...))):match("^([^=]+)=(.+)$")
  if name then names[name] = ip end
end
syscall.listen("pdp://0.0.0.0:" .. port)
print("serving names on pdp port " .. port)
local handles = {}
while true do
  local ev, p = coroutine.yield()
  local h
  if ev == "network_request" then
    h = p.handle
    handles[h.id] = h
  elseif ev == "handle_data_ready" then
    h = handles[p.id]
  end
  while h do
    local q = h:read()
    if q == nil then break end
    print(("query %q"):format(q))
    h:write(q .. "=" .. (names[q] or "?"))
  end
end
