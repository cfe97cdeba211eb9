-- POST /api/v1/messages as visitors would: each wrk thread runs its own
-- visitors, a new session every 5 messages, ids unique per run (args[1]).
local prefix, counter = "bench", 0
local next_thread = 1

function setup(thread)
  thread:set("thread_no", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  prefix = args[1] or prefix
end

function request()
  counter = counter + 1
  local session = string.format("%s-%d-%d", prefix, thread_no, math.floor(counter / 5))
  local body = string.format(
    '{"session_id":"%s","message":"Hello, I would like to know more about plan %d."}',
    session, counter)
  return wrk.format("POST", "/api/v1/messages", {["Content-Type"] = "application/json"}, body)
end
