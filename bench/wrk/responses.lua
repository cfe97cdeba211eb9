-- GET /api/v1/responses as a widget would, round-robin over the pre-seeded
-- sessions "<args[1]>-0" … "<args[1]>-<args[2]-1>" (each has a few answers).
local prefix, sessions, counter = "seed", 1, 0
local next_thread = 1

function setup(thread)
  thread:set("thread_no", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  prefix = args[1] or prefix
  sessions = tonumber(args[2]) or sessions
  counter = thread_no * 7919
end

function request()
  counter = counter + 1
  local path = string.format("/api/v1/responses?session_id=%s-%d", prefix, counter % sessions)
  return wrk.format("GET", path)
end
