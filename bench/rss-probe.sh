#!/bin/bash
# Measures easel's resident memory under varied uncached listings on SQLite:
# four clients walk every offset of the measured project's group and image
# listings, with and without filters, six times over, and the script prints
# VmRSS after each walk. Run `easel-bench run` first, which leaves the seeded
# catalogue in target/bench-work. Requests go to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."

work=target/bench-work
database="sqlite://$work/catalogue.db"
master_key="$work/master.key"
port=18088
project=be9c0000000000000000000000000000
if [ ! -f "$work/catalogue.db" ]; then
  echo "rss-probe: no seeded catalogue in $work; run easel-bench run first" >&2
  exit 1
fi

token=$(target/release/easel token create --project-id "$project" --database "$database" --master-key-file "$master_key" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
target/release/easel serve --listen "127.0.0.1:$port" --database "$database" --master-key-file "$master_key" \
  --listing-cache-entries 0 > "$work/rss-probe.log" 2>&1 &
easel=$!
trap 'kill $easel' EXIT
sleep 2

urls="$work/rss-probe.urls"
: > "$urls"
for offset in $(seq 0 250 9999); do
  for query in "offset=$offset" "offset=$offset&name=pytorch" "offset=$offset&namespace=vision" "offset=$offset&name=resnet"; do
    echo "http://127.0.0.1:$port/v1/$project/images/group?$query" >> "$urls"
    echo "http://127.0.0.1:$port/v1/$project/images?$query" >> "$urls"
  done
done

for walk in 1 2 3 4 5 6; do
  xargs -P 4 -I{} curl -s -o /dev/null -H "X-Auth-Token: $token" {} < "$urls"
  echo "walk $walk: $(grep VmRSS /proc/$easel/status)"
done
