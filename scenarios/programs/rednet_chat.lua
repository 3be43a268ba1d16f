-- rednet_chat PEER_ID PROTOCOL EXPECT MESSAGE...: chats with a CraftOS computer through a rednet
-- handle: sends each MESSAGE half a second apart and waits for EXPECT messages from the peer.
local peer, protocol, expect = ...
local msgs = { select(4, ...) }
local function id_ip(id)
  return ("%d.%d.%d.%d"):format(math.floor(id / 16777216) % 256, math.floor(id / 65536) % 256,
    math.floor(id / 256) % 256, id % 256)
end
local uri = ("rednet+%s://%s"):format(protocol, id_ip(peer))
local h = syscall.connect(uri)
print(("connect(%q)"):format(uri))

local sent, got = 0, 0
local send_timer = syscall.timer(0.5)
local deadline = syscall.timer(20)
while sent < #msgs or got < expect do
  local ev, p = coroutine.yield()
  if ev == "timer" and p.id == send_timer then
    sent = sent + 1
    print(("rednet send %q to #%d"):format(msgs[sent], peer))
    h:write(msgs[sent])
    if sent < #msgs then send_timer = syscall.timer(0.5) end
  elseif ev == "timer" and p.id == deadline then
    break
  elseif ev == "handle_data_ready" and p.id == h.id then
    while true do
      local m = h:read("*a")
      if m == nil then break end
      got = got + 1
      print(("read %q from #%d"):format(tostring(m), peer))
    end
  end
end
h:close()
print(("sent %d/%d, received %d/%d"):format(sent, #msgs, got, expect))
return (sent == #msgs and got >= expect) and 0 or 1
