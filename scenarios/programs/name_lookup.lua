-- name_lookup SERVER PORT NAME: asks a name_server for NAME over PDP (asking again every second,
-- five times at most, as datagrams may be lost) and prints the answer.
local server, port, name = ...
sleep(1)
local h = syscall.connect(("pdp://%s:%d"):format(server, port))
for attempt = 1, 5 do
  h:write(name)
  local retry = syscall.timer(1)
  while true do
    local ev, p = coroutine.yield()
    if ev == "timer" and p.id == retry then break end
    if ev == "handle_data_ready" and p.id == h.id then
      local answer = h:read()
      local ip = answer and answer:match("^" .. name .. "=(.+)$")
      if ip and ip ~= "?" then
        print(("%s is %s (attempt %d)"):format(name, ip, attempt))
        return 0
      elseif ip == "?" then
        print(name .. " is unknown")
        return 1
      end
    end
  end
end
print("no answer for " .. name)
return 1
