#!/usr/bin/env bash
# Everything sdfn needs to show on the GPU machine, in one call (bench/device/README.md):
# installs node from the .device pack, builds the torch addon against the machine's PyTorch
# (CUDA), runs the torch parity suites on CUDA, the quickstart on CUDA in tmux with the live
# dashboard (screen captures come back), the full SDFN step at paper size (ResNet-50, 224 px,
# batch 32, d 1024) against the PyTorch reference on the same card in fp32 and bf16, and the
# data-pipeline bench, and distributed training (Gloo over CUDA tensors, NCCL with world 1). Every result lands under $OUT (at most 8 files come back):
#   run.log  parity.json  dashboard.txt  quickstart.json  step.json  graph.json  data-pipeline.json  summary.md
# Each stage has its own time limit and the whole run a deadline (SDFN_DEVICE_BUDGET_S, 470 s),
# so the call ends inside 8 minutes whatever hangs. A failed stage is recorded and the run goes on.
# Dry run on a CPU machine (test/device/dry-run.test.ts): SDFN_TORCH_DEVICE=cpu SDFN_DEVICE_SIZE=tiny;
# SDFN_DEVICE_SKIP="build …" leaves stages out (the test uses the addon already built);
# SDFN_DEVICE_LIMIT_SCALE=N multiplies every stage's limit (the limits are sized for the H200 machine).
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=${OUT:-/tmp/sdfn-device-out}
mkdir -p "$OUT"
LOG=$OUT/run.log
: >"$LOG"
WORK=$(mktemp -d /tmp/sdfn-device-XXXXXX)
STAGES=$WORK/stages.tsv
: >"$STAGES"
START=$(date +%s)
DEADLINE=$((START + ${SDFN_DEVICE_BUDGET_S:-470}))
SIZE=${SDFN_DEVICE_SIZE:-paper}
export SDFN_TORCH_DEVICE=${SDFN_TORCH_DEVICE:-cuda}
# The bundles of bundle.mjs (SDFN_DEVICE_BUNDLE: another folder, as the dry-run test uses).
GPU=$(realpath -m "${SDFN_DEVICE_BUNDLE:-.gpu}")
export SDFN_ROOT=$ROOT SDFN_BENCH_ENTRY=$GPU/bench.cjs PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1

log() { printf '%s\n' "$*" | tee -a "$LOG"; }

# stage NAME LIMIT_S COMMAND...: runs COMMAND (output to run.log) under min(LIMIT_S, time left).
stage() {
  local name=$1 limit=$2 left rc t0 t1
  shift 2
  if [[ " ${SDFN_DEVICE_SKIP:-} " == *" $name "* ]]; then
    log "== $name: skipped (SDFN_DEVICE_SKIP)"
    printf '%s\tskipped\t0\t%s\n' "$name" "$limit" >>"$STAGES"
    return 0
  fi
  limit=$((limit * ${SDFN_DEVICE_LIMIT_SCALE:-1}))
  left=$((DEADLINE - $(date +%s)))
  if ((left < 5)); then
    log "== $name: skipped (the run's deadline has passed)"
    printf '%s\tskipped\t0\t%s\n' "$name" "$limit" >>"$STAGES"
    return 99
  fi
  ((limit > left)) && limit=$left
  log "== $name (limit ${limit} s) $(date -u +%H:%M:%S)"
  t0=$(date +%s.%N)
  # bash -c: the stages are shell functions (exported below), which timeout cannot run itself.
  timeout -k 5 "$limit" bash -c '"$@"' stage "$@" >>"$LOG" 2>&1
  rc=$?
  t1=$(date +%s.%N)
  local secs
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  log "== $name: exit $rc after $secs s$( ((rc == 124 || rc == 137)) && echo ' (time limit)')"
  printf '%s\t%s\t%s\t%s\n' "$name" "$rc" "$secs" "$limit" >>"$STAGES"
  return $rc
}

# The GPU's memory in use (MiB) every 100 ms into FILE while COMMAND runs (nvidia-smi, when there).
with_gpu_memory() {
  local file=$1 pid rc
  shift
  if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 100 >"$file" 2>/dev/null &
    pid=$!
  fi
  "$@"
  rc=$?
  [[ -n ${pid:-} ]] && kill "$pid" 2>/dev/null
  return $rc
}

setup() {
  if ! command -v node >/dev/null 2>&1; then
    # shellcheck disable=SC1091
    source .device/setup.sh || return 1
  fi
  [[ -n ${NODE_API_INCLUDE:-} ]] && export NODE_API_HEADERS=$NODE_API_INCLUDE
  # The first python with torch: SDFN_PYTHON, python3 (the GPU machine's), Debian's.
  local p
  for p in "${SDFN_PYTHON:-}" python3 /usr/bin/python3; do
    if [[ -n $p ]] && "$p" -c "import torch" 2>/dev/null; then
      SDFN_PYTHON=$(command -v "$p")
      break
    fi
  done
  export SDFN_PYTHON
  node --version && "$SDFN_PYTHON" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.is_available())"
  command -v nvidia-smi >/dev/null && nvidia-smi -L
  nproc
  [[ -f $GPU/sdfn.cjs ]] || { echo "no $GPU/sdfn.cjs: run node bench/device/bundle.mjs here first"; return 1; }
}

# tmux: the machine's, else the one bundle.mjs carried (its libraries on LD_LIBRARY_PATH).
find_tmux() {
  if command -v tmux >/dev/null 2>&1; then
    TMUX_BIN=(tmux)
  elif [[ -x $GPU/tmux/tmux ]] && LD_LIBRARY_PATH=$GPU/tmux/lib "$GPU/tmux/tmux" -V >/dev/null 2>&1; then
    TMUX_BIN=(env "LD_LIBRARY_PATH=$GPU/tmux/lib" "$GPU/tmux/tmux")
  else
    return 1
  fi
}

# The quickstart on the torch backend inside a 120×40 tmux pane; the screen every 5 s (the last
# 12 kept) and the final scrollback go to dashboard.txt, the run's summary to quickstart.json.
quickstart() {
  local run=$WORK/quickstart code=$WORK/quickstart.code sets=(--set backend=torch)
  [[ $SIZE == tiny ]] && sets+=(--set training.epochs=1 --set data.train_pairs=64 --set training.batch_size=16 --set data.test_queries=64 --set data.test_references=8 --set data.test_edits=8 --set training.eval_every=1)
  local line="cd '$ROOT' && env -u CI -u LD_LIBRARY_PATH node $GPU/sdfn.cjs build recipes/quickstart.yaml --out '$run' ${sets[*]}; echo \$? > '$code'"
  local t0 t1
  t0=$(date +%s.%N)
  if find_tmux; then
    local sock=$SOCK shots=$WORK/shots
    mkdir -p "$shots"
    TERM=${TERM:-xterm-256color} "${TMUX_BIN[@]}" -L "$sock" -f /dev/null new-session -d -s main -x 120 -y 40 "$line" || return 1
    "${TMUX_BIN[@]}" -L "$sock" set-option -t main remain-on-exit on >/dev/null
    local n=0
    while [[ ! -s $code ]]; do
      sleep 5
      n=$((n + 1))
      { echo "---- screen at $((n * 5)) s ----"; "${TMUX_BIN[@]}" -L "$sock" capture-pane -p -t main; } >"$shots/$(printf %04d $n)"
    done
    { ls "$shots" | tail -12 | while read -r f; do cat "$shots/$f"; done
      echo "---- final screen and scrollback ----"
      "${TMUX_BIN[@]}" -L "$sock" capture-pane -p -J -S - -t main; } >"$OUT/dashboard.txt"
    "${TMUX_BIN[@]}" -L "$sock" kill-server 2>/dev/null
  else
    echo "no tmux here or carried: the quickstart runs without a terminal (plain lines, no dashboard)"
    bash -c "$line"
    echo "(no tmux: no dashboard capture)" >"$OUT/dashboard.txt"
  fi
  t1=$(date +%s.%N)
  node -e '
    const fs = require("fs"); const [run, code, t0, t1, out] = process.argv.slice(1);
    const read = (f) => { try { return JSON.parse(fs.readFileSync(f, "utf8")); } catch { return null; } };
    const result = { exit_code: Number(fs.readFileSync(code, "utf8").trim()), wall_s: +(t1 - t0).toFixed(1), summary: read(run + "/summary.json") };
    fs.writeFileSync(out, JSON.stringify(result, null, 2) + "\n");
    console.log("quickstart", JSON.stringify({ exit_code: result.exit_code, wall_s: result.wall_s }));
    process.exit(result.exit_code);
  ' "$run" "$code" "$t0" "$t1" "$OUT/quickstart.json"
}

# Rows of the step table: WHO (sdfn|pytorch) and PRECISION (fp32|bf16), JSON into $WORK. sdfn runs
# the eager step and the replayed one (bench/run.ts adds torch+replay to torch: training.compile's
# path, with its memory plan); their peak tensor MiB is the CUDA caching allocator's peak (the
# addon's memoryStats), PyTorch's torch.cuda.max_memory_allocated, both over the timed steps.
step_row() {
  local who=$1 precision=$2 size=(--paper --steps 5)
  [[ $SIZE == tiny ]] && size=(--batch 2 --image-size 16 --dim 8 --steps 1)
  local which=(--backends torch --no-reference)
  [[ $who == pytorch ]] && which=(--backends none)
  local device=cuda
  [[ $SDFN_TORCH_DEVICE == cpu ]] && device=cpu
  with_gpu_memory "$WORK/mem-$who-$precision.txt" \
    node $GPU/bench.cjs "${size[@]}" "${which[@]}" --precision "$precision" --device "$device" --json >"$WORK/step-$who-$precision.json"
}

# training.cuda_graph: the tiny recipe (test/train/fixtures, dropout off) eager, replayed plainly and
# replayed as CUDA graphs; losses must agree to 1e-5 at every step, step times → graph.json.
cuda_graph() {
  local sets=(--set backend=torch --set fusion.modules.0.dropout=0 --set fusion.modules.1.dropout=0 --set training.eval_every=4)
  # the GPU: 44 pairs (5 full batches and a short one) × 4 epochs; tiny (the CPU dry run, where no
  # graph exists and replay-auto is plain replay): 3 steps an epoch, 2 epochs, no separate replay-off run
  local modes=(eager-off replay-off replay-auto)
  if [[ $SIZE == tiny ]]; then
    sets+=(--set data.train_pairs=24 --set training.epochs=2)
    modes=(eager-off replay-auto)
  else
    sets+=(--set data.train_pairs=44 --set training.epochs=4)
  fi
  local mode dirs=()
  for mode in "${modes[@]}"; do
    env -u CI node $GPU/sdfn.cjs build test/train/fixtures/tiny.yaml --out "$WORK/graph-$mode" "${sets[@]}" \
      --set training.compile=${mode%-*} --set training.cuda_graph=${mode#*-} >"$WORK/graph-$mode.log" 2>&1
    local rc=$?
    tail -3 "$WORK/graph-$mode.log"
    ((rc == 0)) || { echo "cuda-graph: the $mode run exited $rc"; cat "$WORK/graph-$mode.log"; return $rc; }
    dirs+=("$WORK/graph-$mode")
  done
  grep -h "CUDA graph" "$WORK"/graph-*.log
  [[ $SIZE == tiny ]] && dirs=("${dirs[0]}" "${dirs[1]}" "${dirs[1]}")
  node bench/device/graph-check.mjs "$OUT/graph.json" "${dirs[@]}" "$WORK/graph-replay-auto.log"
}

# Distributed: Gloo over the device's tensors, 2 processes on the one GPU (the code path; not a
# valid NCCL setup) against 1 process × the global batch, both replayed; NCCL with one process
# (world 1): built and initialised, or why not. bench/device/dist-check.mjs → dist in summary.md.
dist() {
  local recipe=test/dist/fixtures/parity.yaml sets=(--set training.distributed.backend=gloo --log plain)
  [[ $SIZE == tiny ]] && sets+=(--set data.train_pairs=40)
  env -u CI node $GPU/sdfn.cjs build $recipe --nproc 2 --out "$WORK/dist-two" "${sets[@]}" >"$WORK/dist-two.log" 2>&1 || { cat "$WORK/dist-two.log"; return 1; }
  env -u CI node $GPU/sdfn.cjs build $recipe --out "$WORK/dist-one" "${sets[@]}" --set training.batch_size=8 >"$WORK/dist-one.log" 2>&1 || { cat "$WORK/dist-one.log"; return 1; }
  tail -2 "$WORK/dist-two.log"
  node bench/device/dist-check.mjs "$WORK/dist.json" "$WORK/dist-two" "$WORK/dist-one" "$SDFN_TORCH_DEVICE"
}

data_pipeline() {
  local size=(--images 512 --batch 32 --step-ms 80 --prefetch 4)
  [[ $SIZE == tiny ]] && size=(--images 16 --batch 4 --step-ms 20 --prefetch 2)
  node $GPU/data-pipeline.cjs "${size[@]}" --no-baselines --json >"$OUT/data-pipeline.json"
}

export ROOT OUT LOG WORK GPU SIZE SOCK="sdfn-device-$$"
export -f log find_tmux quickstart step_row with_gpu_memory cuda_graph data_pipeline dist
# The tmux server daemonizes: end it whatever happens to the stage that started it.
trap 'tmux_kill' EXIT
tmux_kill() { find_tmux && "${TMUX_BIN[@]}" -L "$SOCK" kill-server >/dev/null 2>&1; rm -rf "$WORK"; }

log "sdfn device run: size $SIZE, torch device $SDFN_TORCH_DEVICE, budget $((DEADLINE - START)) s, $(date -u)"
# In this shell, not a stage: it installs node and exports paths the later stages need.
log "== setup"
if setup >>"$LOG" 2>&1; then printf 'setup\t0\t0\t20\n' >>"$STAGES"; else log "== setup failed (see above)"; printf 'setup\t1\t0\t20\n' >>"$STAGES"; fi
export SDFN_PYTHON NODE_API_HEADERS
stage build 150 env SDFN_REQUIRE_NATIVE=1 node native/build.mjs
if [[ $SIZE == tiny ]]; then
  stage parity 50 node $GPU/parity.cjs --out "$OUT/parity.json" --kernel-cases 6 --reference-cases 1
else
  stage parity 50 node $GPU/parity.cjs --out "$OUT/parity.json"
fi
stage quickstart 75 quickstart
stage step-sdfn-fp32 55 step_row sdfn fp32
stage step-pytorch-fp32 30 step_row pytorch fp32
stage step-sdfn-bf16 45 step_row sdfn bf16
stage step-pytorch-bf16 25 step_row pytorch bf16
stage cuda-graph 60 cuda_graph
stage data-pipeline 25 data_pipeline
stage dist 60 dist
node bench/device/summarize.mjs "$WORK" "$OUT" 2>&1 | tee -a "$LOG"
log "sdfn device run: done in $(($(date +%s) - START)) s"
