-- ping TARGET [COUNT]: MCP echo requests once a second, like Phoenix's `ping`
-- (needs root: netevent and netcontrol). Exits 0 when at least one reply came back.
local target, count = ...
count = tonumber(count) or 4
syscall.netevent(true)

local sent_at, expiry = {}, {}
local seq, pending, replies, total_ms = 0, 0, 0, 0
local send_timer

local function probe()
  seq = seq + 1
  sent_at[seq] = syscall.clock()
  expiry[syscall.timer(2)] = seq
  pending = pending + 1
  syscall.netcontrol(target, "ping", tostring(seq))
  if seq < count then send_timer = syscall.timer(1) end
end

local function settle(s)
  if sent_at[s] then
    sent_at[s] = nil
    pending = pending - 1
    return true
  end
end

probe()
while pending > 0 or seq < count do
  local ev, p = coroutine.yield()
  if ev == "timer" and p.id == send_timer then
    probe()
  elseif ev == "timer" and expiry[p.id] then
    local s = expiry[p.id]
    expiry[p.id] = nil
    if settle(s) then print(("ping %s seq=%d: Host is down"):format(target, s)) end
  elseif ev == "network_event" then
    local inner = type(p.payload) == "table" and type(p.payload.payload) == "table" and p.payload.payload
    local s = tonumber(inner and inner.error)
    local at = s and sent_at[s]
    if at and p.messageType == "pong" and p.sender == target then
      settle(s)
      local ms = math.floor((syscall.clock() - at) * 1000 + 0.5)
      replies, total_ms = replies + 1, total_ms + ms
      print(("reply from %s: seq=%d time=%d ms"):format(target, s, ms))
    elseif at and (p.messageType == "unreachable" or p.messageType == "timeout") then
      settle(s)
      print(("ping %s seq=%d: %s"):format(target, s, tostring(p.error)))
    end
  end
end
local avg = ""
if replies > 0 then avg = (", avg %d ms"):format(math.floor(total_ms / replies)) end
print(("%s: %d/%d replies%s"):format(target, replies, count, avg))
return replies > 0 and 0 or 1
