-- wrk script of benchmarks/http.sh: POST /api/v1/user-points/{id}/charge {"amount":1}.
-- args: <users file> <spread|hot>. The file's first line is the hot user, the rest the spread users.
-- Every charge is 1 point, so the stored balances must sum to the acknowledged (2xx) charges.
local ids = {}
local hot = false
local headers = { ["Content-Type"] = "application/json" }
local body = '{"amount":1}'

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then ids[#ids + 1] = line end
  end
  hot = args[2] == "hot"
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function request()
  local id = hot and ids[1] or ids[math.random(2, #ids)]
  return wrk.format("POST", "/api/v1/user-points/" .. id .. "/charge", headers, body)
end

-- One machine-readable line for the runner; latencies in microseconds.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"p50Us":%d,"p90Us":%d,"p99Us":%d,"maxUs":%d,"meanUs":%.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
