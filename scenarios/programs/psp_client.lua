-- psp_client IP PORT BYTES CHUNK SEED: connects over PSP, writes BYTES bytes (lib/bytes, SEED) in
-- CHUNK-byte messages and closes. The server checks the bytes; this end reports how the close
-- ended (the peer's last segments may be lost, so only a failed connect or write is a failure).
local bytes = require("lib.bytes")
local ip, port, n, chunk, seed = ...
sleep(5) -- the server listens first, and the ping ahead of us warms the routers' ARP caches

local uri = ("psp://%s:%d"):format(ip, port)
local h
local function wait_status(...)
  local want = {}
  for _, s in ipairs({ ... }) do want[s] = true end
  local guard = syscall.timer(20)
  while true do
    local ev, p = coroutine.yield()
    if ev == "handle_status_change" and p.id == h.id then
      if want[p.status] then return p.status end
      if p.status == "error" then return "error", p.error end
    elseif ev == "timer" and p.id == guard then
      return "timeout"
    end
  end
end

-- Three attempts: under heavy loss a handshake can time out.
local st, err
for attempt = 1, 3 do
  h = syscall.connect(uri)
  print(("connect(%q) = handle %d"):format(uri, h.id))
  st, err = wait_status("connected", "open")
  if st == "connected" or st == "open" then break end
  print(("attempt %d failed: %s"):format(attempt, tostring(err or st)))
  sleep(2)
end
if st ~= "connected" and st ~= "open" then
  print("connection failed: " .. tostring(err or st))
  return 1
end
local data = bytes.make(n, seed)
local parts = {}
for i = 1, #data, chunk do parts[#parts + 1] = data:sub(i, i + chunk - 1) end
print(("handle %d open; writing %d bytes in %d messages, then close()"):format(h.id, #data, #parts))
h:write(table.unpack(parts))
h:close()
st = wait_status("closed")
print("after close(): " .. st)
return 0
