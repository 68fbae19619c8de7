#!/usr/bin/env bash
# The policy benchmark in every debtor world: the shipped personas and the two alternative worlds
# (eq_negotiator_ros/test/data/debtor_personas_alt_{a,b}.yaml, written before any policy ran on
# them), 100 negotiations per policy x persona and a 1,800-negotiation population stream, with
# the belief-shaped and the fixed concession schedule, and the shipped world with reciprocity.
# Then the README tables: .venv/bin/python scripts/bench_worlds_table.py runs/worlds
# The emotion detector runs without its sentence encoder (n-grams alone, detector.use_encoder
# false): the policy comparison needs about 200,000 negotiations, and the encoder costs about
# 2.5 ms per debtor utterance on this machine (eq-negotiator bench with the default detector
# reports its own throughput). About 25 minutes on 2 free cores.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/worlds}
EQ=.venv/bin/eq-negotiator
DATA=eq_negotiator_ros/test/data
SUB=eq,eq-context,released,vanilla,fixed-joy,fixed-sadness,fixed-anger,fixed-fear,fixed-surprise,fixed-disgust
mkdir -p "$OUT"
run() {
  local name=$1; shift
  echo "$name: eq-negotiator bench $* --seed 7 --workers 2" >&2
  "$EQ" --set detector.use_encoder=false bench "$@" --seed 7 --workers 2 --out "$OUT/$name" --json > "$OUT/$name.json"
}
for world in shipped alt_a alt_b; do
  config=()
  [ "$world" = shipped ] || config=(--debtor-config "$DATA/debtor_personas_$world.yaml")
  run "cells_$world" --policies all --personas all --episodes 100 "${config[@]}"
  run "pop_$world" --population --negotiations 1800 --policies "$SUB" "${config[@]}"
  run "cells_${world}_fixed" --policies "$SUB" --personas all --episodes 100 --fixed-concession "${config[@]}"
  run "pop_${world}_fixed" --population --negotiations 1800 --policies "$SUB" --fixed-concession "${config[@]}"
done
run cells_shipped_recip --policies "$SUB" --personas all --episodes 100 --reciprocity 0.3
run pop_shipped_recip --population --negotiations 1800 --policies "$SUB" --reciprocity 0.3
.venv/bin/python scripts/bench_worlds_table.py "$OUT"
