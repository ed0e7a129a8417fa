#!/usr/bin/env bash
# Benchmark of the class playbook (issue 14, item 5): the wall time of one ansible-playbook run of
# ansible/site.yml from fresh machines (labctl, Node 20, Exim built from source, configure, the
# class DNS server, verify) for 2 and 4 student containers plus the DNS server, with Ansible's
# forks at its default (5), on this machine. Each size is one scripts/class/test.sh run with
# LABCTL_CLASS_MODE=playbook, which also prints the slowest tasks (the longest host's time each).
# Needs root and scripts/setup.sh --tests, as npm run test:class does.
#   bench/class.sh [SIZES...]     default: 2 4
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ "${#sizes[@]}" -gt 0 ] || sizes=(2 4)
declare -A wall=()
for n in "${sizes[@]}"; do
  echo "== $n students"
  out=$(mktemp)
  LABCTL_CLASS_STUDENTS=$n LABCTL_CLASS_MODE=playbook bash scripts/class/test.sh 2>&1 | tee "$out" | grep -E '^(timing|task|test.sh: (bench|dns))' || true
  wall[$n]=$(sed -n 's/.*first playbook run \([0-9.]*\) s$/\1/p' "$out")
  rm -f "$out"
  [ -n "${wall[$n]}" ] || { echo "bench: the run with $n students gave no playbook time"; exit 1; }
done
echo "class playbook benchmark ($(nproc) cores, forks at Ansible's default)"
for n in "${sizes[@]}"; do
  printf '  %2d students + dns   %7.1f s   %5.1f s per student\n' "$n" "${wall[$n]}" "$(awk -v t="${wall[$n]}" -v n="$n" 'BEGIN { print t / n }')"
done
