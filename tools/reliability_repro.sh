#!/usr/bin/env bash
# Runs issue #23's reproductions against this checkout's bin/retain with the tiny model and prints, for each:
# the command, its exit code, what it printed on stderr, and what is on disk afterwards.
#
#   tools/reliability_repro.sh [WORK_DIR]        (default: a fresh temporary folder)
#
# The heavy cases (a 50 MB document, a 1 GB line, a 2,000 x 2,000 report) take minutes to an hour and are
# measured in docs/RELIABILITY.md; this script runs the small version of each. Item 3 (a full disk) mounts
# a 20 MB tmpfs and so needs root; without it that item says so and goes on.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
R="$ROOT/bin/retain"
M="$ROOT/datasets/models/tiny/model.pt"
TK="$ROOT/datasets/tokenizers/gpt2/tokenizer.json"
D="$ROOT/datasets/domains"
W="${1:-$(mktemp -d /tmp/retain-repro.XXXXXX)}"
mkdir -p "$W"
cd "$W" || exit 1
"$R" info "$M" >/dev/null 2>&1 || { echo "bin/retain does not run"; exit 1; }

# show TITLE COMMAND...: runs the command, prints it, its exit code and its stderr (indented)
show() {
  local title=$1; shift
  echo "### $title"
  echo "\$ $*" | sed "s#$ROOT/##g; s#$W/##g"
  "$@" >"$W/.out" 2>"$W/.err"
  local rc=$?
  echo "exit $rc"
  sed "s#$ROOT/##g; s#$W/##g; s/^/  /" "$W/.err" | tail -3
}
# disk PATH...: what is there afterwards
disk() {
  echo "on disk:"
  for p in "$@"; do
    if [ -e "$p" ]; then (cd "$W" && find "$p" -maxdepth 2 | sort | sed 's/^/  /' | head -12); else echo "  $p: absent"; fi
  done
  echo
}
TRAIN=(--model "$M" --tokenizer "$TK" --seq-len 32 --batch-size 2 --warmup-steps 0 --test-windows 4)

echo "## 1. paths stay inside their folder"
for name in '..' '.' '' report; do
  mkdir -p "exp-$name-x"
  cat >"exp-$name-x/exp.yaml" <<EOF
model: $M
tokenizer: $TK
domains: [$D/computing, $D/legal]
out: out
settings: {seq-len: 32, batch-size: 2, max-steps-per-domain: 2, warmup-steps: 0, test-windows: 4}
variants:
  - {name: "$name", strategy: naive}
EOF
  show "variant named '$name'" "$R" run "exp-$name-x/exp.yaml"
  disk "exp-$name-x"
done
"$R" train "${TRAIN[@]}" --domains "$D/computing" "$D/legal" --strategy naive --max-steps-per-domain 2 \
  --out run1 >/dev/null 2>&1
for dir in '../../somewhere' '/etc'; do
  cp -r run1 "run-$(echo "$dir" | tr -c 'a-z' '_')"
  r="run-$(echo "$dir" | tr -c 'a-z' '_')"
  python3 - "$r/checkpoint.json" "$dir" <<'EOF'
import json, sys
p, d = sys.argv[1], sys.argv[2]
j = json.load(open(p)); j["dir"] = d; json.dump(j, open(p, "w"))
EOF
  show "checkpoint.json dir '$dir'" "$R" train --resume "$r"
  disk "$r/checkpoint.json"
done

echo "## 2. JSON limits and long documents"
python3 -c 'print("{\"text\": " + "[" * 1001 + "]" * 1001 + "}")' >deep.jsonl
show "a JSONL line nested 1,001 deep" "$R" prepare deep.jsonl --out prep-deep
disk prep-deep
show "the same with --skip-bad-lines" "$R" prepare deep.jsonl --out prep-deep2 --skip-bad-lines
printf '{"text": "x\\ud800y"}\n' >surrogate.jsonl
show "a lone surrogate" "$R" prepare surrogate.jsonl --out prep-sur
disk prep-sur
python3 - <<'EOF' >big.jsonl
import json
for i in range(40):
    print(json.dumps({"text": f"small document {i}: " + "a few words of text. " * 100}))
print(json.dumps({"text": "lorem ipsum dolor sit amet " * 400000}))
EOF
echo "(big.jsonl: one $(du -h big.jsonl | cut -f1) document; docs/RELIABILITY.md measures 50 MB and 1 GB)"
show "one long JSONL document, with /usr/bin/time -v" /usr/bin/time -v "$R" prepare big.jsonl --out prep-big --split 50,0,50
grep -E "Maximum resident|Elapsed" "$W/.err" | sed 's/^\s*/  /'
disk prep-big

echo "## 3. a full disk during export and report"
if mkdir -p small && mount -t tmpfs -o size=20m tmpfs small 2>/dev/null; then
  head -c 10M /dev/zero >small/fill
  show "export onto a full disk" "$R" export "$M" --tokenizer "$TK" --out small/ex --format both
  disk small
  cat /dev/zero >small/fill2 2>/dev/null  # the disk full
  show "report onto a full disk" "$R" report run1 --out small/rep
  disk small
  umount small
else
  echo "(not root: no tmpfs; skipped)"
fi

echo "## 4. resource flags have ranges"
show "--threads 100000" "$R" train "${TRAIN[@]}" --domains "$D/computing" --threads 100000 --out t1
disk t1
show "--epochs 1e40" "$R" train "${TRAIN[@]}" --domains "$D/computing" --epochs 1e40 --out t2
show "--split 2147483647,2147483647,102" "$R" prepare "$D/computing/train.txt" --out t3 --split 2147483647,2147483647,102
disk t3

echo "## 5. metrics.jsonl repaired on resume"
"$R" train "${TRAIN[@]}" --domains "$D/computing" "$D/legal" --strategy naive --max-steps-per-domain 20 \
  --save-every 5 --out m1 >/dev/null 2>&1 &
pid=$!
for _ in $(seq 600); do
  n=$(grep -c '"type":"step"' m1/metrics.jsonl 2>/dev/null); n=${n:-0}
  [ "$n" -ge 16 ] && break
  sleep 0.1
done
kill -TERM $pid; wait $pid; echo "stopped by SIGTERM at step $(grep -c '"type":"step"' m1/metrics.jsonl)"
truncate -s -37 m1/metrics.jsonl
show "resume after cutting 37 bytes off metrics.jsonl" "$R" train --resume m1
python3 - m1/metrics.jsonl <<'EOF'
import json, sys
bad = 0; steps = []
for line in open(sys.argv[1]):
    try:
        j = json.loads(line)
    except ValueError:
        bad += 1; continue
    if j.get("type") == "step": steps.append(j["step"])
print(f"  metrics.jsonl: {bad} lines not JSON; steps {steps[0]}..{steps[-1]}, missing {sorted(set(range(steps[0], steps[-1]+1)) - set(steps))}")
EOF
show "retain report on it" "$R" report m1 --out m1-report
rm m1/metrics.jsonl
show "retain report with metrics.jsonl deleted" "$R" report m1 --out m1-report2

echo "## 7. a signal outside training"
python3 -c 'import json
for i in range(3000): print(json.dumps({"text": f"document {i}: " + "some words of a long text. " * 250}))' >long.jsonl
"$R" prepare long.jsonl --out p-sig >/dev/null 2>"$W/.err" &
# (SIGTERM: a background job of a script ignores SIGINT; SignalTest sends SIGINT to a child process)
pid=$!; sleep 4; kill -TERM $pid; wait $pid; rc=$?
echo "### prepare stopped by SIGTERM after 4 s"; echo "exit $rc"; sed 's/^/  /' "$W/.err" | tail -2
echo "temporary files left: $(find p-sig -name '.*tmp*' 2>/dev/null | wc -l)"; echo

echo "## 8. damaged files named"
cp -r run1 dmg; echo 'garbage {' >dmg/run.json
show "a garbage run.json" "$R" train --resume dmg
cp -r run1 dmg2
python3 - dmg2/results.json <<'EOF'
import json, sys
p = sys.argv[1]; j = json.load(open(p)); j["stages"][0]["steps"] = "six"; json.dump(j, open(p, "w"))
EOF
show "results.json with steps \"six\"" "$R" report dmg2 --out dmg2-report
disk dmg2-report

echo "## 9. YAML off"
mkdir -p yoff
cat >yoff/exp.yaml <<EOF
model: $M
tokenizer: $TK
domains: [$D/computing]
out: out
settings: {seq-len: 32, batch-size: 2, max-steps-per-domain: 2, warmup-steps: 0, test-windows: 4, drift: off, rewarm: off}
variants: [naive]
EOF
show "drift: off, rewarm: off" "$R" run yoff/exp.yaml --list

echo "## 10. FIFOs, links, duplicate names"
mkfifo pipe.jsonl
show "a FIFO as a source" timeout 20 "$R" prepare pipe.jsonl --out fifo-out
mkdir -p docs-src/sub; echo "a document" >docs-src/sub/a.txt; ln -s sub docs-src/linked; ln -s nowhere docs-src/broken.txt
show "a folder with a directory link and a broken link" "$R" prepare docs-src --out docs-out
mkdir -p dup
cat >dup/exp.yaml <<EOF
model: $M
tokenizer: $TK
domains: [$D/computing]
out: out
variants: [naive, ewc, naive]
EOF
show "a duplicate variant name" "$R" run dup/exp.yaml --list
echo "work folder: $W"
