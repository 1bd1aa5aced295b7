-- wrk script for the load test (BENCHMARKS.md): every request is Tencent's documented recall
-- callback for the demo app 1400000000, sent as Tencent sends it (POST, JSON body, keep-alive).
wrk.method = "POST"
wrk.path = "/im/callback?SdkAppid=1400000000&CallbackCommand=Group.CallbackAfterRecallMsg"
  .. "&contenttype=json&ClientIP=127.0.0.1&OptPlatform=RESTAPI"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"CallbackCommand":"Group.CallbackAfterRecallMsg","Operator_Account":"admin",'
  .. '"Type":"Community","GroupId":"@TGS#_@TGS#cQVLVHIM62CJ",'
  .. '"MsgSeqList":[{"MsgSeq":130,"MsgId":"144115213033478435-1739361321-2512805311"}],'
  .. '"TopicId":"@TGS#_@TGS#cQVLVHIM62CJ@TOPIC#_TestTopic","EventTime":1670574414123}'

-- Every answer must be the 200 acknowledgement: count anything else. `response` runs in each
-- thread's own Lua state, `done` in the main one: the counts are gathered from the threads.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

unexpected = 0

function response(status, headers, body)
  if status ~= 200 then
    unexpected = unexpected + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("unexpected")
  end
  io.write(string.format("unexpected statuses: %d\n", total))
end
