-- 95 reads to 5 writes: every 20th request registers an image (as in
-- register.lua, which is loaded first), the others read BENCH_READ_PATH.
read_path = os.getenv("BENCH_READ_PATH") or "/"
reads = 0

function request()
  reads = reads + 1
  if reads % 20 == 0 then
    return register_request()
  end
  return wrk.format("GET", read_path, { ["X-Auth-Token"] = token })
end
