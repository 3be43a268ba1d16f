-- The kernel side of a simulated Phoenix computer's Lua state. Run once per state, before any
-- program; it turns the stock Lua 5.2 globals into the sandbox programs see and returns the
-- kernel's private table (never reachable from programs).
--
-- Arguments: the Rust-side helpers (`log`, `random`, `randomseed`, `require_source`, `clock`,
-- `killed`).
local R = ...

local yield, co_create, co_resume, co_status, co_wrap, co_running =
    coroutine.yield, coroutine.create, coroutine.resume, coroutine.status, coroutine.wrap,
    coroutine.running
local raw_load, raw_pcall, raw_xpcall, raw_error = load, pcall, xpcall, error
local select, type, tostring, setmetatable, rawget = select, type, tostring, setmetatable, rawget
local pack = table.pack
local unpack = table.unpack
local concat, sort = table.concat, table.sort

local K = {}

-- The process ABI: a syscall is a yield of ("syscall", name, args...); the kernel resumes with
-- (true, results...) or (false, message).
local function do_syscall(name, ...)
  return yield("syscall", name, ...)
end

-- Handle objects: a table {id = n} whose methods (named by the kernel from the stack's registry
-- of the handle's kind) call the stack through `__handlecall`.
local handle_mt = { __metatable = false }
function handle_mt.__tostring(h)
  return "handle: " .. tostring(rawget(h, "id"))
end
local handles = setmetatable({}, { __mode = "v" })

local function method(id, name)
  return function(...)
    -- Both `h:read()` and `h.read()` work, as with CC:Tweaked's file handles.
    local n = select("#", ...)
    local first = ...
    local ok, r
    if n > 0 and type(first) == "table" and rawget(first, "id") == id and handles[id] == first then
      r = pack(yield("syscall", "__handlecall", id, name, select(2, ...)))
    else
      r = pack(yield("syscall", "__handlecall", id, name, ...))
    end
    if r[1] then
      return unpack(r, 2, r.n)
    end
    raw_error(r[2], 2)
  end
end

function K.handle(id, names)
  local h = handles[id]
  if h then
    return h
  end
  h = { id = id }
  for _, m in ipairs(names) do
    h[m] = method(id, m)
  end
  handles[id] = h
  return setmetatable(h, handle_mt)
end

-- The `syscall` module: syscall.NAME(...) raises the kernel's error text instead of returning
-- false (the usual wrapper of Phoenix programs).
local syscall = setmetatable({}, {
  __index = function(t, name)
    local f = function(...)
      local r = pack(do_syscall(name, ...))
      if r[1] then
        return unpack(r, 2, r.n)
      end
      raw_error(r[2], 2)
    end
    t[name] = f
    return f
  end,
})

-- Once a computer's limits stopped a program, no pcall may swallow that: every protected call
-- re-raises when it returns.
local function recheck(...)
  if R.killed() then
    raw_error("process stopped by the simulator", 0)
  end
  return ...
end
pcall = function(...)
  return recheck(raw_pcall(...))
end
xpcall = function(...)
  return recheck(raw_xpcall(...))
end

-- Syscalls made inside a program's own coroutines pass through to the kernel, so libraries may
-- use coroutines freely; other yields stay the program's business.
local function pass(co, r)
  while r[1] and r[2] == "syscall" and co_status(co) == "suspended" do
    r = pack(co_resume(co, yield(unpack(r, 2, r.n))))
  end
  recheck()
  return r
end
coroutine.resume = function(co, ...)
  local r = pass(co, pack(co_resume(co, ...)))
  return unpack(r, 1, r.n)
end
coroutine.wrap = function(f)
  local co = co_create(f)
  return function(...)
    local r = pass(co, pack(co_resume(co, ...)))
    if r[1] then
      return unpack(r, 2, r.n)
    end
    raw_error(r[2], 0)
  end
end

-- Deterministic `pairs`: keys in a fixed order (numbers, then strings, then booleans, then the
-- rest in raw order), because stock Lua's string hashing is seeded per state.
local RANK = { number = 1, string = 2, boolean = 3 }
local function key_less(a, b)
  local ta, tb = type(a), type(b)
  local ra, rb = RANK[ta] or 4, RANK[tb] or 4
  if ra ~= rb then
    return ra < rb
  end
  if ra == 1 or ra == 2 then
    return a < b
  end
  if ra == 3 then
    return (not a) and b
  end
  return false
end
local raw_next = next
pairs = function(t)
  local mt = getmetatable(t)
  if type(mt) == "table" and mt.__pairs then
    return mt.__pairs(t)
  end
  if type(t) ~= "table" then
    raw_error("bad argument #1 to 'pairs' (table expected, got " .. type(t) .. ")", 2)
  end
  local keys, n = {}, 0
  for k in raw_next, t do
    n = n + 1
    keys[n] = k
  end
  local plain = true
  for i = 1, n do
    if not RANK[type(keys[i])] then
      plain = false
      break
    end
  end
  if plain then
    sort(keys, key_less)
  end
  local i = 0
  return function()
    while true do
      i = i + 1
      local k = keys[i]
      if k == nil then
        return nil
      end
      local v = rawget(t, k)
      if v ~= nil then
        return k, v
      end
    end
  end, t, nil
end

load = function(chunk, name, mode, env)
  if mode ~= nil and mode ~= "t" and mode ~= "bt" and mode ~= "b" then
    raw_error("bad argument #3 to 'load' (invalid mode)", 2)
  end
  if mode == "b" then
    return nil, "attempt to load a binary chunk (bytecode is not allowed)"
  end
  if env == nil then
    return raw_load(chunk, name, "t")
  end
  return raw_load(chunk, name, "t", env)
end
loadstring = nil
dofile = nil
loadfile = nil
string.dump = nil

print = function(...)
  local n = select("#", ...)
  local parts = {}
  for i = 1, n do
    parts[i] = tostring((select(i, ...)))
  end
  R.log(concat(parts, "\t"))
end

math.random = R.random
math.randomseed = R.randomseed

os = {
  clock = R.clock,
  time = function(t)
    if t ~= nil then
      raw_error("bad argument #1 to 'time' (the simulator has no calendar)", 2)
    end
    return math.floor(R.clock())
  end,
  difftime = function(a, b)
    return a - (b or 0)
  end,
}

-- `sleep(seconds)`: waits for its own timer; other events that arrive meanwhile are queued
-- again, in order, for the program's next wait.
sleep = function(s)
  local r = pack(do_syscall("timer", s or 0))
  if not r[1] then
    raw_error(r[2], 2)
  end
  local id = r[2]
  local later = {}
  while true do
    local ev, p = yield()
    if ev == "timer" and type(p) == "table" and p.id == id then
      break
    end
    later[#later + 1] = { ev, p }
  end
  for _, e in ipairs(later) do
    do_syscall("queueEvent", e[1], e[2])
  end
end

-- `require`: the preloaded `syscall` module, then Lua files of the scenario's folder only.
local loaded = { syscall = syscall, string = string, table = table, math = math,
  coroutine = coroutine, bit32 = bit32, os = os }
package = { loaded = loaded }
require = function(name)
  if type(name) ~= "string" then
    raw_error("bad argument #1 to 'require' (string expected, got " .. type(name) .. ")", 2)
  end
  local m = loaded[name]
  if m ~= nil then
    return m
  end
  local source, path = R.require_source(name)
  if not source then
    raw_error(path, 2)
  end
  local f, err = raw_load(source, "@" .. path, "t")
  if not f then
    raw_error(err, 2)
  end
  local r = f(name)
  if r == nil then
    r = true
  end
  loaded[name] = r
  return r
end

_G.syscall = syscall

-- Loads a program's main chunk (text only) with its arguments.
function K.program(source, chunkname)
  return raw_load(source, "@" .. chunkname, "t")
end

return K
