#!/usr/bin/env bash
# Benchmark of the two-host lab (issue 5, item 8): lab up + backup-mx drill with N=100
# (--force) + lab down, each phase timed, and the messages per second the backup accepted while
# the primary was down. Goal: <= 30 s in total on a 2-core machine. Needs root and a built CLI
# (npm run build) and Exim installed by `labctl install`.
set -euo pipefail
cd "$(dirname "$0")/.."
labctl() { node bin/labctl "$@"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

labctl lab down >/dev/null
t0=$(now)
labctl lab up >/dev/null
t1=$(now)
drill=$(NO_COLOR=1 labctl lab drill backup-mx --messages 100 --force)
t2=$(now)
labctl lab down >/dev/null
t3=$(now)

rate=$(sed -n 's/.*backup accepted \([0-9.]*\) msg\/s.*/\1/p' <<<"$drill")
figures=$(grep -E '^  (sent|held|phases)' <<<"$drill" | sed 's/^  //')
echo "lab benchmark (N=100, forced delivery)"
echo "  lab up              $(secs "$t0" "$t1") s"
echo "  drill backup-mx     $(secs "$t1" "$t2") s"
echo "  lab down            $(secs "$t2" "$t3") s"
echo "  total               $(secs "$t0" "$t3") s   (goal <= 30 s)"
echo "  backup accepted     ${rate} msg/s during the outage"
sed 's/^/  /' <<<"$figures"
grep -q 'lost 0, duplicates 0' <<<"$drill"
