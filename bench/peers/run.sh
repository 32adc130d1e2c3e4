#!/bin/bash
# Peer benchmark: the same nets in keras.cpp, ONNX Runtime (onnxruntime-node) and PyTorch
# (Debian python3-torch), one workload at a time, all three one after another, then one
# markdown table of times and ratios (peer time / our time; > 1 means keras.cpp is faster).
#   bench/peers/run.sh [--seconds S] [--threads T] [--rounds R] [--only NAME[,NAME]]
# --rounds R (default 3) runs each workload R times in turn, ours then ORT then PyTorch, and
# reports each one's median round: on a shared machine a neighbour's burst then moves one
# round of all three instead of deciding a ratio.
# NAME: w1, w1:1, w1:256, vgg16, seed_head, fit.  Env: BUILD_DIR (default build),
# ORT_VERSION (default 1.30.0), TORCH_OPENBLAS_THREADS (default 1, see below).
# Installs python3-torch (apt) and onnxruntime-node (npm, into bench/peers/node_modules) if
# missing; exports the ONNX files once into bench/peers/.cache/. Raw output: .cache/run.log.
set -u
cd "$(dirname "$0")/../.."
SECS=5 THREADS=2 ONLY= ROUNDS=3
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) SECS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    *) echo "usage: $0 [--seconds S] [--threads T] [--rounds R] [--only NAME[,NAME]]" >&2; exit 2 ;;
  esac
done
PEERS=bench/peers CACHE=bench/peers/.cache PY=/usr/bin/python3
KERASCPP=${BUILD_DIR:-build}/kerascpp
export OPENBLAS_NUM_THREADS=1
# Debian's torch runs nn.Linear through OpenBLAS, so OPENBLAS_NUM_THREADS=1 also caps its
# Dense layers at one thread; TORCH_OPENBLAS_THREADS=$THREADS lifts that for PyTorch only.
TORCH_OB=${TORCH_OPENBLAS_THREADS:-1}

sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
$PY -c 'import torch' 2>/dev/null || $sudo apt-get install -y python3-torch >&2 || exit 1
[ -f $PEERS/node_modules/onnxruntime-node/package.json ] ||
  npm install --ignore-scripts --no-save --no-audit --no-fund --prefix $PEERS \
    "onnxruntime-node@${ORT_VERSION:-1.30.0}" >&2 || exit 1
$PY $PEERS/models.py $CACHE 2>&1 | grep -v -i warn >&2
LOG=$CACHE/run.log; : > "$LOG"

# value after "KEY" in the last line that has it, else n/a
field() { grep -o "$1 *[0-9][0-9.eE+-]*" | tail -1 | awk '{print $NF}' | grep . || echo n/a; }
run() { echo "\$ $*" >> "$LOG"; timeout 1800 "$@" 2>&1 | tee -a "$LOG"; }

# the median of the numeric arguments (the lower middle one for an even count), else n/a
median() { printf '%s\n' "$@" | grep -E '^[0-9.eE+-]+$' | sort -g | awk '{v[NR]=$1} END {print NR ? v[int((NR+1)/2)] : "n/a"}'; }
ratio() { awk -v p="$1" -v o="$2" 'BEGIN { if (p + 0 > 0 && o + 0 > 0) printf "%.2f", p / o; else print "n/a" }'; }
rows=()
for w in w1:1 w1:256 vgg16:1 seed_head:64 fit:128; do
  name=${w%:*} batch=${w#*:}
  if [ -n "$ONLY" ]; then case ",$ONLY," in *",$name,"* | *",$w,"*) ;; *) continue ;; esac; fi
  echo "== $name batch $batch" >&2
  o=() p=() q=()
  for r in $(seq "$ROUNDS"); do
    if [ "$name" = fit ]; then
      o+=("$(run "$KERASCPP" bench bench/models/w1.json --fit --dataset fashion_mnist \
               --batch-size 128 --threads "$THREADS" | field 's/epoch:')")
      p+=(n/a)
      q+=("$(OPENBLAS_NUM_THREADS=$TORCH_OB run $PY bench/pytorch_convnet_epoch.py \
               --threads "$THREADS" --repeat 1 | field 'best')")
      label="w1 fit epoch b128 (s)"
    else
      o+=("$(run "$KERASCPP" bench bench/models/$name.json --batch-size "$batch" \
               --threads "$THREADS" --seconds "$SECS" | field 'ms/batch:')")
      p+=("$(run node $PEERS/ort_bench.js --seconds "$SECS" --threads "$THREADS" --cache $CACHE \
               "$name" "$batch" | field 'ms/batch:')")
      q+=("$(OPENBLAS_NUM_THREADS=$TORCH_OB run $PY $PEERS/torch_bench.py --seconds "$SECS" \
               --threads "$THREADS" "$name" "$batch" | field 'ms/batch:')")
      label="$name b$batch (ms)"
    fi
    echo "   round $r: ours ${o[-1]}  ort ${p[-1]}  torch ${q[-1]}" >&2
  done
  ours=$(median "${o[@]}") ort=$(median "${p[@]}") torch=$(median "${q[@]}")
  echo "   ours $ours  ort $ort  torch $torch" >&2
  rows+=("| $label | $ours | $ort | $torch | $(ratio "$ort" "$ours") | $(ratio "$torch" "$ours") |")
done

echo
echo "| work | keras.cpp | ORT | PyTorch | ORT/ours | PyTorch/ours |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "$(lscpu | grep 'Model name' | sed 's/  */ /g'); threads $THREADS; timed ${SECS} s each (median), median of $ROUNDS rounds" \
     "OPENBLAS_NUM_THREADS=1 (PyTorch: $TORCH_OB); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "onnxruntime-node $(node -p "require('./$PEERS/node_modules/onnxruntime-node/package.json').version")" \
     "(node $(node --version)); PyTorch $($PY -c 'import torch; print(torch.__version__)') (Debian python3-torch $(dpkg-query -W -f='${Version}' python3-torch 2>/dev/null))"
