-- post.lua: wrk script posting distinct, correctly signed webhooks read
-- from the file in env BODIES ("signature<TAB>body" lines).  Thread t of
-- T takes lines t, t+T, t+2T...: no two requests repeat a body while the
-- file lasts.
local path = os.getenv("BODIES")
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local sigs, bodies, n, i, step = {}, {}, 0, 0, 1
function init(args)
  step = tonumber(os.getenv("WRK_THREADS") or "1")
  for line in io.lines(path) do
    local tab = line:find("\t", 1, true)
    n = n + 1
    sigs[n] = line:sub(1, tab - 1)
    bodies[n] = line:sub(tab + 1)
  end
  i = tid
end
function request()
  local k = (i - 1) % n + 1
  i = i + step
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["X-Hub-Signature-256"] = sigs[k] }, bodies[k])
end
