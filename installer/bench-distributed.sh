#!/usr/bin/env bash
# Data-parallel pre-training throughput on this machine: the tiny preset with 1 process (plain
# `capfilt train`) and with N processes through `capfilt launch` (Gloo over loopback), 1 LibTorch
# thread each, the same global batch; pairs/s, the scaling ratio, and the time per step spent in
# collectives (gathers of features and image embeddings, the bucketed gradient all-reduce, the
# small agreements). A benchmark, not a test; prints the load average beside each figure, since
# other work on the machine changes them.
#
#   bash installer/bench-distributed.sh [OUT_DIR]    (CAPFILT=path/to/capfilt, NPROC=2, STEPS=20, BATCH=16)
set -euo pipefail
CAPFILT=${CAPFILT:-build/app/capfilt}
NPROC=${NPROC:-2}
STEPS=${STEPS:-20}
BATCH=${BATCH:-16}
OUT=${1:-/tmp/capfilt-bench-distributed}
rm -rf "$OUT/jobs"
mkdir -p "$OUT"
[ -f "$OUT/data/human_train.json" ] || "$CAPFILT" demo-data "$OUT/data" --count 500 >/dev/null
DATA="$OUT/data"

report() {  # $1 label; the job's "finished" line on stdin; writes pairs/s to $RESULT
  grep '"event":"finished"' | python3 "$OUT/report.py" "$1" "$BATCH"
}
cat > "$OUT/report.py" <<'PY'
import json, os, sys
label, batch = sys.argv[1], int(sys.argv[2])
e = json.loads(sys.stdin.read().splitlines()[-1])
m = e.get("metrics", {})
pps = m.get("pairs_per_s", 0)
step = batch / pps if pps else 0
share = m.get("comm_share", 0)
wait = m.get("data_wait_share", 0)
load = os.getloadavg()[0]
print(f"{label}: {e['status']}, {pps:.2f} pairs/s, {1000 * step:.0f} ms/step, "
      f"{1000 * share * step:.0f} ms/step in collectives ({100 * share:.1f}%), "
      f"waiting for data {100 * wait:.1f}%; load average {load:.2f}")
print(pps, file=open(os.environ["RESULT"], "w"))
PY

args=(train pretrain --json --log-every 10 --annotations "$DATA/web_train.json" "$DATA/human_train.json"
      --steps "$STEPS" --batch-size "$BATCH" --workers 1)
echo "tiny, pretrain ITC+ITM+LM, global batch $BATCH, $STEPS steps, 1 thread per process; $(nproc) cores"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# CPU seconds (user + system, all processes) per pair: on a machine busy with other work the wall
# figures move with the load, the CPU cost of a pair much less.
cpu() { awk -v pairs=$((STEPS * BATCH)) '{printf "  CPU: %.1f s user+system, %.3f s per pair\n", $1 + $2, ($1 + $2) / pairs}' "$1"; }
RESULT="$OUT/one.txt" /usr/bin/time -f "%U %S" -o "$OUT/one.cpu" \
  "$CAPFILT" --threads 1 --device cpu "${args[@]}" --job-dir "$OUT/jobs/one" \
  | RESULT="$OUT/one.txt" report "1 process"
cpu "$OUT/one.cpu"
RESULT="$OUT/many.txt" /usr/bin/time -f "%U %S" -o "$OUT/many.cpu" \
  "$CAPFILT" --threads 1 --device cpu launch --nproc "$NPROC" -- "${args[@]}" \
  --job-dir "$OUT/jobs/many" | RESULT="$OUT/many.txt" report "$NPROC processes"
cpu "$OUT/many.cpu"
python3 -c 'import sys; a=float(open(sys.argv[1]).read()); b=float(open(sys.argv[2]).read())
print(f"scaling: {b/a:.2f}x with {sys.argv[3]} processes (ideal {sys.argv[3]}x)")' \
  "$OUT/one.txt" "$OUT/many.txt" "$NPROC"
