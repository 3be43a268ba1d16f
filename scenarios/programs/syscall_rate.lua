-- syscall_rate N: N kernel syscalls (getpid), N stack syscalls (checkuri) and N handle method
-- calls (status), in batches of 10 000 per wake-up, to measure the cost of a syscall round trip.
local n = tonumber((...)) or 100000
local h = syscall.connect("pdp://10.9.9.9:9")
local function batch(f)
  local done = 0
  while done < n do
    for _ = 1, math.min(10000, n - done) do f() end
    done = done + math.min(10000, n - done)
    sleep(0)
  end
end
batch(function() syscall.getpid() end)
batch(function() syscall.checkuri("psp://1.2.3.4:5") end)
batch(function() h:status() end)
print(("%d getpid, %d checkuri, %d status calls"):format(n, n, n))
