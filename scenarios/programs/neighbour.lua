-- neighbour FIRST_IP FIRST_ID COUNT [BASE_PORT]: for crowds of computers with consecutive addresses
-- and IDs. Answers PDP datagrams on its own port (BASE_PORT + its index: Phoenix carries ports as
-- modem channels, so one shared port would make every computer hear every datagram), and asks the
-- next computer once (ARP entry added by hand, so no broadcast is needed); stays up twelve seconds
-- so its own neighbour gets an answer.
local first_ip, first_id, count, base_port = ...
base_port = base_port or 10000
local function num(ip)
  local a, b, c, d = ip:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  return ((tonumber(a) * 256 + tonumber(b)) * 256 + tonumber(c)) * 256 + tonumber(d)
end
local function dotted(n)
  return ("%d.%d.%d.%d"):format(math.floor(n / 16777216) % 256, math.floor(n / 65536) % 256,
    math.floor(n / 256) % 256, n % 256)
end
local me = num(syscall.ipconfig("/top").ip)
local index = me - num(first_ip)
local next_index = (index + 1) % count
local target = dotted(num(first_ip) + next_index)
syscall.arpadd("/top", target, first_id + next_index)
syscall.listen("pdp://0.0.0.0:" .. (base_port + index))
sleep(math.random() * 2)
local h = syscall.connect(("pdp://%s:%d"):format(target, base_port + next_index))
h:write("hello")
local answered = false
local stop = syscall.timer(10)
local served = {}
while true do
  local ev, p = coroutine.yield()
  if ev == "timer" and p.id == stop then break end
  local s
  if ev == "network_request" then
    s = p.handle
    served[s.id] = s
  elseif ev == "handle_data_ready" then
    s = served[p.id]
  end
  if s then
    local m = s:read()
    while m do
      s:write("ack:" .. m)
      m = s:read()
    end
  end
  if ev == "handle_data_ready" and p.id == h.id and h:read() then
    answered = true
  end
end
if answered then
  print("neighbour " .. target .. " answered")
end
return answered and 0 or 1
