-- Registers a new image on every request. Each reference is unique: it holds
-- the wrk thread, a per-thread counter and BENCH_RUN, which the runner sets
-- differently for every scenario run. The images fall into 100 groups per thread.
token = os.getenv("EASEL_TOKEN") or ""
run = os.getenv("BENCH_RUN") or "0"
counter = 0
thread_id = 0
threads_started = 0

function setup(thread)
  thread:set("thread_id", threads_started)
  threads_started = threads_started + 1
end

function register_request()
  counter = counter + 1
  local body = string.format(
    '{"swr_path":"localhost:5000/bench/load-%d-%d:r%s-%d","description":"registered by the benchmark"}',
    thread_id, counter % 100, run, counter)
  return wrk.format("POST", wrk.path, { ["X-Auth-Token"] = token, ["Content-Type"] = "application/json" }, body)
end

request = register_request
