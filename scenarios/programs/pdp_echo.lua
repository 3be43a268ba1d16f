-- pdp_echo PORT: answers every PDP datagram with "ack:" .. datagram (run it as a daemon).
local port = ...
syscall.listen("pdp://0.0.0.0:" .. port)
print("listening on pdp port " .. port)
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
    local m = h:read()
    if m == nil then break end
    print(("datagram %q on handle %d; answering"):format(m, h.id))
    h:write("ack:" .. m)
  end
end
