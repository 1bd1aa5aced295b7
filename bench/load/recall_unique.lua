-- wrk script for the durable receivers' load test (BENCHMARKS.md): recall.lua's callback, with
-- each request naming a MsgSeq of its own, so that a durable receiver stores every request
-- instead of taking all but the first as retries. Run wrk with one thread (-t1): the counter
-- is the thread's.
dofile("bench/load/recall.lua")

local template = wrk.body:gsub('"MsgSeq":130', '"MsgSeq":%%d')
local seq = 0

function request()
  seq = seq + 1
  return wrk.format(nil, nil, nil, string.format(template, seq))
end
