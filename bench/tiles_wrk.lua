-- wrk script: cycle through the request paths of $TILES_LIST (one per line), each thread
-- starting at its own offset; report p50/p99 latency and throughput as one JSON line.
local paths = {}
for line in io.lines(os.getenv("TILES_LIST")) do
  paths[#paths + 1] = line
end
local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end

function init(args)
  counter = id * 7919
end

function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end

function done(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format('{"requests": %d, "seconds": %.3f, "rps": %.1f, "p50_ms": %.3f, "p99_ms": %.3f, "mean_ms": %.3f, "errors": %d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.mean / 1000, errors))
end
