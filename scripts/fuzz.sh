#!/usr/bin/env bash
# Fuzzes MLFlux's file readers with libFuzzer + AddressSanitizer (see Fuzz/README.md).
#
#   scripts/fuzz.sh [TARGET|all] [SECONDS]   build, then fuzz each target SECONDS (default 60)
#   scripts/fuzz.sh replay [TARGET|all]      build, then run every Fuzz/regressions input once
#   scripts/fuzz.sh build                    only build the sanitizer binary
#   scripts/fuzz.sh index                    add hand-made regression files to their index.tsv
#   scripts/fuzz.sh list                     list the targets
#
# Fuzzing runs libFuzzer in fork mode (-fork=1) and keeps going after a crash, leak,
# timeout or out-of-memory; each new finding (by kind and top project stack frame) is
# copied into Fuzz/regressions/<target>/ and listed in its index.tsv (a finding with a
# signature already listed is reported but not copied again). The corpus grows in
# a working copy (.build-fuzz/work/corpus/<target>, seeded from Fuzz/corpus/<target>) so
# the committed corpus stays small. Exit status: 1 when a run found any crash (new or
# known) or a replayed input crashed, else 0.
#
# Environment: FUZZ_SCRATCH (build folder, default .build-fuzz), FUZZ_NO_BUILD=1 (use the
# existing binary), FUZZ_RSS_MB (default 2048), FUZZ_TIMEOUT (seconds per input, default 10),
# FUZZ_NICE (nice level, default 10), FUZZ_ARGS (extra libFuzzer options).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

scratch="${FUZZ_SCRATCH:-.build-fuzz}"
config="${FUZZ_CONFIG:-release}"
bin="$scratch/$config/mlflux-fuzz"
work="$scratch/work"
rss="${FUZZ_RSS_MB:-2048}"
per_input="${FUZZ_TIMEOUT:-10}"
nice_level="${FUZZ_NICE:-10}"
# The Swift runtime's own crash backtracer would race libFuzzer's handler; ASan reports
# leaks and stack traces (llvm-symbolizer of the toolchain).
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:handle_abort=1:symbolize=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/Fuzz/lsan.supp:print_suppressions=0}"
export MLFLUX_REPO="$root"
# The targets' scratch folders (mlflux-fuzz-PID); a crashed child leaves its folder behind.
# One folder per invocation, so that two runs side by side (one per core) never remove
# each other's live scratch folders.
if [[ "$work" == /* ]]; then export TMPDIR="$work/tmp/run-$$"; else export TMPDIR="$root/$work/tmp/run-$$"; fi
mkdir -p "$TMPDIR"
trap 'rm -rf "$TMPDIR"' EXIT
# Symbolize with the toolchain's llvm-symbolizer (beside `swift`) when there is one.
if [[ -z "${ASAN_SYMBOLIZER_PATH:-}" ]]; then
    sym="$(dirname "$(readlink -f "$(command -v swift)")")/llvm-symbolizer"
    [[ -x "$sym" ]] && export ASAN_SYMBOLIZER_PATH="$sym"
fi

build() {
    [[ "${FUZZ_NO_BUILD:-0}" == 1 && -x "$bin" ]] && return 0
    echo "== building mlflux-fuzz with -sanitize=fuzzer,address (scratch $scratch)"
    local log
    log="$(mktemp)"
    # gold warns about every ASan helper symbol; keep the log, show only the tail.
    if ! nice -n "$nice_level" swift build -c "$config" --scratch-path "$scratch" --product mlflux-fuzz \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING >"$log" 2>&1; then
        grep -v "Cannot export local symbol" "$log" | tail -n 40
        rm -f "$log"
        echo "fuzz build failed" >&2
        exit 2
    fi
    grep -v "Cannot export local symbol" "$log" | tail -n 1
    rm -f "$log"
}

targets() { "$bin" --list; }

max_len() {
    case "$1" in
        fluxml) echo 16384 ;; mids) echo 8192 ;; manifest) echo 4096 ;;
        safetensors) echo 8192 ;; npy) echo 4096 ;; dataset) echo 8192 ;; *) echo 4096 ;;
    esac
}

# Options for every run: memory, per-input time, no extra output files.
common_opts() {
    echo "-rss_limit_mb=$rss -malloc_limit_mb=$rss -timeout=$per_input -max_len=$(max_len "$1")"
}

# signature FILE TARGET: "kind@top project frame" of the crash FILE causes ("" if none).
# kind: asan:<report>, leak, oom, timeout or trap (a Swift runtime trap: overflow, index out of
# range, precondition; its message is printed by debug builds only, so it is left out).
signature() {
    local out kind frame
    # shellcheck disable=SC2046
    out="$("$bin" "$2" $(common_opts "$2") -runs=1 "$1" 2>&1)" && return 0
    if grep -q "ERROR: LeakSanitizer" <<<"$out"; then kind=leak
    elif grep -q "ERROR: libFuzzer: out-of-memory\|allocation-size-too-big\|requested allocation size" <<<"$out"; then kind=oom
    elif grep -q "ERROR: libFuzzer: timeout\|ALARM: working on the last Unit" <<<"$out"; then kind=timeout
    elif grep -q "ERROR: AddressSanitizer: [a-z-]" <<<"$out"; then
        kind="asan:$(grep -m1 -oE "ERROR: AddressSanitizer: [a-z-]+" <<<"$out" | sed 's/.*: //')"
    else kind=trap
    fi
    frame="$(grep -oE "/Sources/[A-Za-z0-9_]+/[^ :]+\.swift:[0-9]+" <<<"$out" | head -n 1)"
    [[ -z "$frame" ]] && frame="$(grep -oE "/Fuzz/Sources/[^ :]+\.swift:[0-9]+" <<<"$out" | head -n 1)"
    echo "$kind@${frame#/Sources/}"
}

# index TARGET: adds the regression files that index.tsv lacks (hand-made ones) with their signature.
index() {
    local dir="Fuzz/regressions/$1"
    mkdir -p "$dir"
    touch "$dir/index.tsv"
    for f in "$dir"/*; do
        local name
        name="$(basename "$f")"
        [[ -f "$f" && "$name" != index.tsv && "$name" != *.md ]] || continue
        cut -f1 "$dir/index.tsv" | grep -qxF -- "$name" && continue
        local sig
        sig="$(signature "$f" "$1")"
        printf '%s\t%s\n' "$name" "${sig:-no crash}" >>"$dir/index.tsv"
    done
}

# collect TARGET: new artifacts of the last run → Fuzz/regressions/TARGET (new signatures only).
collect() {
    local t="$1" dir="Fuzz/regressions/$1" found=0
    local -A known=()
    index "$t"
    shopt -s nullglob
    for f in "$work/artifacts/$t"/{crash,leak,timeout,oom,slow-unit}-*; do
        local sig name
        sig="$(signature "$f" "$t")"
        if [[ -z "$sig" ]]; then
            echo "   $(basename "$f"): does not reproduce on replay (kept in $work/artifacts/$t)"
            continue
        fi
        if cut -f2 "$dir/index.tsv" | grep -qxF -- "$sig"; then
            known["$sig"]=$(( ${known["$sig"]:-0} + 1 ))
            found=1
        else
            name="$(basename "$f")"
            cp "$f" "$dir/$name"
            printf '%s\t%s\n' "$name" "$sig" >>"$dir/index.tsv"
            echo "   NEW $dir/$name: $sig"
            found=1
        fi
        rm -f "$f"
    done
    shopt -u nullglob
    for sig in "${!known[@]}"; do echo "   known: $sig (${known[$sig]} input(s), not copied)"; done
    return $found
}

fuzz_one() {
    local t="$1" seconds="$2"
    local corpus="$work/corpus/$t" artifacts="$work/artifacts/$t" log="$work/logs/$t.log"
    mkdir -p "$corpus" "$artifacts" "$work/logs"
    [[ -d "Fuzz/corpus/$t" ]] && cp -n "Fuzz/corpus/$t"/* "$corpus/" 2>/dev/null || true
    echo "== fuzz $t for ${seconds}s (corpus $corpus, log $log)"
    local status=0
    # shellcheck disable=SC2046,SC2086
    nice -n "$nice_level" "$bin" "$t" "$corpus" $(common_opts "$t") -max_total_time="$seconds" \
        -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
        -artifact_prefix="$artifacts/" -print_final_stats=1 ${FUZZ_ARGS:-} >"$log" 2>&1 || status=$?
    # Fork mode: the parent's "#N: cov: C ft: F corp: K exec/s: E oom/timeout/crash: a/b/c time: Ts" lines.
    local last
    last="$(grep -E "^#[0-9]+: cov: " "$log" | tail -n 1 || true)"
    [[ -z "$last" ]] && last="$(grep -E "cov: [0-9]+ ft: [0-9]+" "$log" | tail -n 1 || true)"
    echo "   $last"
    local execs cov ft eps
    execs="$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$last")"
    cov="$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$last")"
    ft="$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<<"$last")"
    # exec/s over the whole run (fork mode's own figure is per job, and 0 when jobs crash).
    local took
    took="$(sed -nE 's/.* time: ([0-9]+)s.*/\1/p' <<<"$last")"
    if [[ -n "$execs" && -n "$took" && "$took" -gt 0 ]]; then eps=$((execs / took)); else
        eps="$(sed -nE 's/.*exec\/s: ([0-9]+).*/\1/p' <<<"$last")"; fi
    local files
    files="$(find "$corpus" -type f | wc -l)"
    summary+=("$(printf '%-12s %8ss %12s %8s %7s %7s %7s' "$t" "$seconds" "${execs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" "$files")")
    if ((status != 0)) && ! grep -q "INFO: exiting: 0\|INFO: fuzzed for\|Done [0-9]* runs" "$log"; then
        echo "   libFuzzer exited with status $status:"
        tail -n 20 "$log" | sed 's/^/   | /'
        new_findings=1
    fi
    collect "$t" || new_findings=1
}

replay() {
    local failed=0 count=0
    for t in "$@"; do
        local dir="Fuzz/regressions/$t"
        [[ -d "$dir" ]] || continue
        for f in "$dir"/*; do
            [[ -f "$f" && "$(basename "$f")" != index.tsv && "$(basename "$f")" != *.md ]] || continue
            count=$((count + 1))
            # shellcheck disable=SC2046
            if out="$("$bin" "$t" $(common_opts "$t") -runs=1 "$f" 2>&1)"; then
                echo "ok     $t $f"
            else
                echo "CRASH  $t $f"
                grep -m1 -E "ERROR: |Fatal error|Precondition failed|ALARM" <<<"$out" | sed 's/^/         /' || true
                grep -oE "/Sources/[^ ]+\.swift:[0-9]+(:[0-9]+)?" <<<"$out" | head -n 3 | sed 's/^/         at /' || true
                failed=$((failed + 1))
            fi
        done
    done
    echo "== replay: $count input(s), $failed crashed"
    ((failed == 0))
}

cmd="${1:-all}"
case "$cmd" in
    list) build >/dev/null; targets ;;
    index) build; mapfile -t list < <(targets); for t in "${list[@]}"; do index "$t"; done ;;
    build) build ;;
    replay)
        build
        which="${2:-all}"
        if [[ "$which" == all ]]; then mapfile -t list < <(targets); else list=("$which"); fi
        replay "${list[@]}"
        ;;
    *)
        seconds="${2:-60}"
        build
        if [[ "$cmd" == all ]]; then mapfile -t list < <(targets); else list=("$cmd"); fi
        for t in "${list[@]}"; do
            targets | grep -qxF "$t" || { echo "unknown target '$t' (targets: $(targets | tr '\n' ' '))" >&2; exit 2; }
        done
        summary=()
        new_findings=0
        for t in "${list[@]}"; do fuzz_one "$t" "$seconds"; done
        echo
        echo "== summary (execs, cov, ft from libFuzzer's last status line, exec/s = execs / its time; corpus = working corpus files)"
        printf '%-12s %9s %12s %8s %7s %7s %7s\n' target time execs exec/s cov ft corpus
        printf '%s\n' "${summary[@]}"
        if ((new_findings)); then
            echo "== the run found crashes (see above; new ones were saved in Fuzz/regressions)"
            exit 1
        fi
        ;;
esac
