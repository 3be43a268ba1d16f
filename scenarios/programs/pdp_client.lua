-- pdp_client IP PORT MESSAGE...: sends each message as a PDP datagram and counts the answers
-- for ten seconds (PDP is unreliable: one answer is a success).
local ip, port = ...
local msgs = { select(3, ...) }
sleep(1)
local uri = ("pdp://%s:%d"):format(ip, port)
local h = syscall.connect(uri)
for _, m in ipairs(msgs) do
  print(("datagram %q -> %s"):format(m, uri))
  h:write(m)
end
local got, deadline = 0, syscall.timer(10)
while got < #msgs do
  local ev, p = coroutine.yield()
  if ev == "timer" and p.id == deadline then break end
  if ev == "handle_data_ready" and p.id == h.id then
    while true do
      local m = h:read()
      if m == nil then break end
      got = got + 1
      print(("got %q"):format(m))
    end
  end
end
print(("%d/%d datagrams answered"):format(got, #msgs))
return got > 0 and 0 or 1
