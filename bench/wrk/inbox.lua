-- GET /api/v1/inbox?limit=50 as the agent's plugin would (with its empty JSON
-- content type); args[1] is the API key. Every call claims up to 50 messages.
--
-- Once the backlog is drained an empty claim costs far less than a full one,
-- so a thread stops at its first empty answer, and the rate is taken over the
-- time until the last thread stopped (a monotonic clock through LuaJIT's FFI),
-- counting full claims only.
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]
local clock = ffi.new("bench_timespec")
local function now()
  ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) + tonumber(clock.tv_nsec) / 1e9
end

local headers = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  headers["Authorization"] = "Bearer " .. (args[1] or "")
  headers["Content-Type"] = "application/json"
  claims, empty, started, stopped = 0, 0, 0, 0
end

function request()
  if started == 0 then started = now() end
  return wrk.format("GET", "/api/v1/inbox?limit=50", headers)
end

function response(status, headers, body)
  if status ~= 200 then return end
  if string.find(body, '"messages":[]', 1, true) then
    empty = empty + 1
    if stopped == 0 then stopped = now() end
    wrk.thread:stop()
  else
    claims = claims + 1
  end
end

function extra_report()
  local claims, first, last, all_stopped = 0, math.huge, 0, true
  for _, t in ipairs(threads) do
    claims = claims + t:get("claims")
    local s = t:get("started")
    if s > 0 and s < first then first = s end
    local e = t:get("stopped")
    if e == 0 then all_stopped = false elseif e > last then last = e end
  end
  if not all_stopped or last == 0 then
    return string.format('INBOX_JSON {"claims":%d,"drained":false}\n', claims)
  end
  return string.format('INBOX_JSON {"claims":%d,"drained":true,"seconds":%.4f}\n',
                       claims, last - first)
end
