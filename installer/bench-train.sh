#!/usr/bin/env bash
# Training throughput from image files on disk (decode + augment + step on worker threads ahead of
# the model) and the share of the run the step waited for images, for the tiny and base presets;
# then the peak resident memory of the same job over 1,000 and 100,000 pairs (the same demo images
# listed many times, so only the number of pairs changes). A benchmark, not a test.
#
#   bash installer/bench-train.sh [OUT_DIR]      (CAPFILT=path/to/capfilt, THREADS=2)
set -euo pipefail
CAPFILT=${CAPFILT:-build/app/capfilt}
THREADS=${THREADS:-2}
OUT=${1:-/tmp/capfilt-bench-train}
rm -rf "$OUT/jobs"
mkdir -p "$OUT"
[ -f "$OUT/data/human_train.json" ] || "$CAPFILT" demo-data "$OUT/data" --count 500 >/dev/null
DATA="$OUT/data"

finished() {  # the metrics of the job's "finished" line
  grep '"event":"finished"' | python3 -c 'import json,sys
e=json.loads(sys.stdin.read().splitlines()[-1]); m=e.get("metrics",{})
print(f"  {e[\"status\"]}: {m.get(\"pairs_per_s\",0):.2f} pairs/s, waiting for data {100*m.get(\"data_wait_share\",0):.1f}% of the run")'
}

echo "tiny (64 px), pretrain ITC+ITM+LM, batch 16, 30 steps, $THREADS threads:"
"$CAPFILT" --threads "$THREADS" train pretrain --job-dir "$OUT/jobs/tiny" --json --log-every 10 \
  --annotations "$DATA/web_train.json" "$DATA/human_train.json" --steps 30 --batch-size 16 | finished

echo "base (224 px), pretrain ITC+ITM+LM, batch 4, 2 steps, $THREADS threads:"
"$CAPFILT" --threads "$THREADS" train pretrain --job-dir "$OUT/jobs/base" --json --preset base \
  --annotations "$DATA/human_train.json" --steps 2 --batch-size 4 --queue-size 64 | finished

python3 - "$DATA" <<'PY'
import json, sys
data = sys.argv[1]
pairs = json.load(open(f"{data}/web_train.json")) + json.load(open(f"{data}/human_train.json"))
for n in (1000, 100000):
    json.dump([pairs[i % len(pairs)] for i in range(n)], open(f"{data}/bench_{n}.json", "w"))
PY
for n in 1000 100000; do
  /usr/bin/time -v "$CAPFILT" --threads "$THREADS" train pretrain --job-dir "$OUT/jobs/rss-$n" --json \
    --annotations "$DATA/bench_$n.json" --steps 20 --batch-size 16 2>"$OUT/time-$n.txt" >/dev/null
  echo "$n pairs, 20 steps: peak RSS $(awk -F': ' '/Maximum resident/ {printf "%.0f MiB", $2/1024}' "$OUT/time-$n.txt")"
done
