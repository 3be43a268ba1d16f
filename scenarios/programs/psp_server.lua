-- psp_server PORT BYTES SEED: accepts one PSP connection, reads until the peer closes, and checks
-- that it got exactly the BYTES bytes lib/bytes makes from SEED.
local bytes = require("lib.bytes")
local port, expect, seed = ...
local uri = "psp://0.0.0.0:" .. port
syscall.listen(uri)
print(("listen(%q)"):format(uri))

local conn, got, started
local function drain()
  while true do
    local data = conn:read("*a")
    if data == nil or data == "" then return end
    got[#got + 1] = data
  end
end

while true do
  local ev, p = coroutine.yield()
  if ev == "network_request" and not conn then
    conn, got, started = p.handle, {}, syscall.clock()
    print(("network_request from %s: handle %d"):format(p.ip, conn.id))
  elseif conn and p.id == conn.id and ev == "handle_data_ready" then
    drain()
  elseif conn and p.id == conn.id and ev == "handle_status_change" then
    drain()
    if p.status == "closed" then break end
    if p.status == "error" then
      -- A handshake that failed; the client tries again.
      print("connection failed: " .. tostring(p.error) .. "; waiting for another")
      conn = nil
    end
  end
end

-- The peer is done; closing our side completes the PSP close handshake. Stay a few seconds so
-- the last segments of the handshake are answered (a process that exits drops its sockets).
pcall(conn.close, conn)
local linger = syscall.timer(5)
repeat
  local ev, p = coroutine.yield()
until (ev == "timer" and p.id == linger)
  or (ev == "handle_status_change" and p.id == conn.id and p.status ~= "closed")

local data = table.concat(got)
local secs = syscall.clock() - started
local intact = #data == expect and bytes.sum(data) == bytes.sum(bytes.make(expect, seed))
print(("peer closed; received %d bytes in %.1f s, %s"):format(#data, secs,
  intact and "every byte intact" or "DATA MISMATCH"))
return intact and 0 or 1
