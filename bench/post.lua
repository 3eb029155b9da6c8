-- post.lua: wrk script posting distinct, correctly signed webhooks read
-- from the file in env BODIES ("signature<TAB>body" lines).  Thread t of
-- T keeps and sends lines t, t+T, t+2T... in order: no two requests repeat
-- a body while the file lasts.  It counts the answers that are not 2xx itself (wrk's own
-- count lets 3xx pass as success) and says when the file ran out and
-- bodies were sent again; done() prints one line:
--   post.lua: non2xx=N wrapped=0|1
local path = os.getenv("BODIES")
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
local sigs, bodies, n, i = {}, {}, 0, 0
non2xx, wrapped = 0, 0
function init(args)
  local step = tonumber(os.getenv("WRK_THREADS") or "1")
  local line_no = 0
  for line in io.lines(path) do
    if line_no % step == tid - 1 then
      local tab = line:find("\t", 1, true)
      n = n + 1
      sigs[n] = line:sub(1, tab - 1)
      bodies[n] = line:sub(tab + 1)
    end
    line_no = line_no + 1
  end
end
function request()
  i = i + 1
  if i > n then
    wrapped = 1
  end
  local k = (i - 1) % n + 1
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["X-Hub-Signature-256"] = sigs[k] }, bodies[k])
end
function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end
function done(summary, latency, requests)
  local bad, wrap = 0, 0
  for _, t in ipairs(threads) do
    bad = bad + t:get("non2xx")
    wrap = math.max(wrap, t:get("wrapped"))
  end
  io.write(string.format("post.lua: non2xx=%d wrapped=%d\n", bad, wrap))
end
