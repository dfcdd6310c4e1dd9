#!/bin/sh
# The issue-13 and issue-11 measurements (README "Performance"): run sequentially, each with the load average.
# Usage: sh scripts/scale_measurements.sh OUTDIR   (instances are generated into OUTDIR: weekly
# batches, --receipt-days 5, as the issue measured them). ONLY=kbh,s1000-120 runs only the
# named runs (and generates only what they need).
set -u
OUT=${1:-out/scale}
S=${SCHEDULER:-.venv/bin/scheduler}
mkdir -p "$OUT"
gen() { name=$1; shift; [ -f "$OUT/$name.json" ] || $S generate --profile stress --seed 51 \
  --load 0.85 --avanceret-share 0.35 --home-share 0.05 --receipt-days 5 "$@" -o "$OUT/$name.json"; }
want() { case ",${ONLY:-$1}," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
{ want s1000 || want s1000-120; } && gen s1000 --referrals 1000
want s3100 && gen s3100 --referrals 3100 --therapists 800 --sites 30
run() { name=$1; shift; want "$name" || return 0
  echo "== $name: $(uptime)"; $S bench "$@" --out "$OUT/$name" 2>&1 | grep -v '^wrote'; }
run kbh --only 'koebenhavn-*' --methods cpsat --workers 2 --time-limit 10
run s1000 "$OUT/s1000.json" --methods cpsat --workers 2 --time-limit 60
# Issue 11's targets with courses (every generated week has them): the København family on-time
# count proven in 10 s (the kbh line above); the 1,000-referral week within 1% of the bound in
# 120 s and under 1.5 GB.
run s1000-120 "$OUT/s1000.json" --methods cpsat --workers 2 --time-limit 120
run s3100 "$OUT/s3100.json" --methods cpsat --workers 2 --time-limit 60
run national-local --manifest instances/bench/stress-national.json \
  --only 'national-*-01,national-*-02' --methods cpsat --workers 1 --time-limit 5
run national-ray --manifest instances/bench/stress-national.json \
  --only 'national-*-01,national-*-02' --methods cpsat --workers 1 --time-limit 5 --ray local
echo "== done: $(uptime)"
