-- tick: five timer wake-ups a second apart and six stack syscalls, no traffic (the Lua side of a
-- scale run on its own); the first computer of a crowd prints its Lua heap.
local ip = syscall.ipconfig("/top").ip
for i = 1, 5 do
  sleep(1)
  syscall.routelist()
end
if ip == "10.1.0.1" then print("memory " .. math.floor(collectgarbage("count")) .. " KiB") end
