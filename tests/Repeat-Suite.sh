#!/usr/bin/env bash
# Runs the README's test command N times, each time in a fresh clone of this repository's
# committed HEAD as it was when the script started (every run tests that one commit) in a
# temporary folder, and prints each run's count line. With --busy, two busy
# loops keep both cores loaded for the whole run. Before and after, it prints what the suite must
# leave as it found it: pid_max, the swap areas (/proc/swaps), the number of processes and the
# files the suite's programs write in /var/tmp and /tmp (madvps-*).
#   tests/Repeat-Suite.sh -n 5
#   tests/Repeat-Suite.sh -n 2 --busy
# Exit code: 0 if every run ended "... 0 failed ...", 1 otherwise. The suite changes swap and
# freezes processes: on a shared machine, run it under the host lock (flock /tmp/madvps-host.lock).
set -u

runs=1
busy=0
while [ $# -gt 0 ]; do
    case "$1" in
        -n) runs="$2"; shift 2 ;;
        --busy) busy=1; shift ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "unknown option: $1 (use -n N and --busy)" >&2; exit 2 ;;
    esac
done

repo="$(cd "$(dirname "$0")/.." && pwd)"
commit="$(git -C "$repo" rev-parse HEAD)"
work="$(mktemp -d "${TMPDIR:-/tmp}/madvps-repeat-XXXXXX")"
loops=()

host_state() {
    echo "$1: pid_max $(cat /proc/sys/kernel/pid_max); processes $(ls -d /proc/[0-9]* 2>/dev/null | wc -l); madvps files in /var/tmp and /tmp: $(ls -d /var/tmp/madvps-* /tmp/madvps-* 2>/dev/null | grep -v "^$work" | wc -l); swap:"
    sed 's/^/    /' /proc/swaps
}

cleanup() {
    for p in "${loops[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT

echo "commit $commit"
host_state before
if [ "$busy" -eq 1 ]; then
    for _ in 1 2; do (while :; do :; done) & loops+=("$!"); done
    echo "two busy loops running: ${loops[*]}"
fi

failed=0
for i in $(seq 1 "$runs"); do
    clone="$work/run-$i"
    { git clone --quiet "$repo" "$clone" && git -C "$clone" checkout --quiet "$commit"; } || { echo "run $i: git clone failed"; failed=1; continue; }
    start=$(date +%s)
    log="$work/run-$i.log"
    (cd "$clone" && dotnet tool restore >/dev/null && tools/pwsh -NoProfile ./build.ps1 Test) >"$log" 2>&1
    code=$?
    line="$(grep -aE '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$log" | tail -1)"
    echo "run $i: ${line:-no count line} (exit code $code, $(( $(date +%s) - start )) s)"
    if [ "$code" -ne 0 ] || ! echo "$line" | grep -q ' 0 failed'; then
        failed=1
        # Each failed test with the lines that say why.
        grep -aE -A4 '\[-\] ' "$log" | head -60 | sed 's/^/    /'
    fi
    rm -rf "$clone"
done

for p in "${loops[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
loops=()
host_state after
exit "$failed"
