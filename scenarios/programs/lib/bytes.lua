-- Test data both ends of a transfer can make from a seed, and a checksum (Adler-32).
local M = {}

function M.make(n, seed)
  local parts, x = {}, (seed or 1) % 2147483647
  if x == 0 then x = 1 end
  for i = 1, n do
    x = (x * 16807) % 2147483647
    parts[i] = string.char(x % 256)
  end
  return table.concat(parts)
end

function M.sum(s)
  local a, b = 1, 0
  for i = 1, #s do
    a = (a + s:byte(i)) % 65521
    b = (b + a) % 65521
  end
  return b * 65536 + a
end

return M
