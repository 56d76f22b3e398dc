#!/usr/bin/env bash
# Instructions per iteration of every HTTP contender, counted by callgrind (valgrind installed):
# two runs of benches/examples/instructions.rs, LOW and HIGH iterations; the difference over
# HIGH - LOW cancels start-up and set-up. Prints a markdown table for benches/RESULTS.md.
#   bash benches/instructions.sh
set -euo pipefail
cd "$(dirname "$0")/.."
LOW=${LOW:-200}
HIGH=${HIGH:-1200}
cargo build -q --profile bench -p portline-benches --example instructions --example instructions_answer
BIN=${CARGO_TARGET_DIR:-target}/release/examples/instructions
[ -x "$BIN" ] || BIN=${CARGO_TARGET_DIR:-target}/bench/examples/instructions
ANSWER=$(dirname "$BIN")/instructions_answer
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
count() { # sample contender iterations -> instructions (contender `answer`: the other binary)
    local bin=$BIN args=("$@")
    [ "$2" = answer ] && bin=$ANSWER args=("$1" "$3")
    valgrind --tool=callgrind --callgrind-out-file="$OUT/cg" "$bin" "${args[@]}" >/dev/null 2>"$OUT/log"
    sed -n 's/^summary: //p' "$OUT/cg"
}
per() { # sample contender -> instructions per iteration
    local lo hi
    lo=$(count "$1" "$2" "$LOW")
    hi=$(count "$1" "$2" "$HIGH")
    echo $(( (hi - lo) / (HIGH - LOW) ))
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "| sample | httparse | portline (fresh) | ratio | portline_keepalive | ratio | keepalive, owned events | ratio |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for s in request_720_kitty request_380_browser request_68_short response_head; do
    hp=$(per "$s" httparse)
    f=$(per "$s" portline)
    k=$(per "$s" portline_keepalive)
    o=$(per "$s" portline_keepalive_owned)
    echo "| $s | $hp | $f | $(ratio "$f" "$hp") | $k | $(ratio "$k" "$hp") | $o | $(ratio "$o" "$hp") |"
done
# The kept-alive short request (examples/instructions_answer.rs) answered as the file server answers (six fields, a length): what
# send_response costs with a real answer's fields. No httparse counterpart (it does not write).
k=$(per request_68_short answer)
echo "| request_68_short, answer with 6 fields | | | | $k | | | |"
for t in trickle1 trickle16; do
    hp=$(per "$t" httparse)
    k=$(per "$t" portline_keepalive)
    echo "| $t | $hp | | | $k | $(ratio "$k" "$hp") | | |"
done
hp=$(per chunked httparse)
f=$(per chunked portline)
echo "| message_chunked_4k | $hp | $f | $(ratio "$f" "$hp") | | | | |"
