#!/usr/bin/env bash
# npm run test:class: the class playbook (ansible/site.yml) against three booted Debian 12
# containers, dns, st14 and st18, each a separate machine with systemd and sshd, on a private
# bridge that only they and the controller see. Checks that the playbook passes, that st14 and
# st18 each pass verify (no failed check) including 5a-backup-relay against the other, runs the
# backup-MX drill across the machines (systemctl stop exim on st14, 20 messages from a client on
# st18 that looks up the MX records, held on st18, systemctl start exim on st14, each arrives
# exactly once), builds the class report (HTML, opened in headless Chromium), and runs the
# playbook a second time expecting changed=0 on every host. Needs root and scripts/setup.sh --tests.
# Exim is built once, on a fourth container, build, in the inventory group labctl_build (the
# instructor's build machine: a throwaway container on the controller, from the same root
# filesystem); every student installs that build with the digest the controller took of it. Then
# the trust boundaries: the packed release carries its lock and st14 runs exactly it on the pinned
# Node.js; a tampered export whose build.json was made to match is refused by labctl install
# --from-build; a build machine whose build.json names "../" files is refused by the playbook.
#
# Layout (see ../shared notes, "Ansible over SSH to booted containers"):
#  - the root filesystem of scripts/container/rootfs.sh plus openssh-server and python3 (installed
#    in a chroot with a policy-rc.d that starts nothing), cached beside it;
#  - a netns PREFIX-net holding a bridge without an address, and one netns per machine and one
#    for the controller (PREFIX-ctl), each joined by a veth made inside PREFIX-net with its peer
#    made directly in the target netns: the host's own network is never touched;
#  - systemd-nspawn --boot --network-namespace-path=... from a per-machine cgroup;
#  - the containers reach the Debian archive and the npm registry only through
#    scripts/container/egress.mjs, as in the container smoke run;
#  - Ansible runs from the controller netns, with every file of its own under the work directory.
# On exit or signal: every container powered off, the egress stopped, the ssh control masters and
# anything else in the run's netns and cgroups killed, netns, mounts, cgroups and the work
# directory removed, and /dev/null checked.
#   LABCTL_CI_CACHE        the rootfs cache (default /var/cache/labctl-ci)
#   LABCTL_CONTAINER_WORK  where the work directory goes (default /var/tmp)
#   LABCTL_CLASS_KEEP_REPORTS=DIR   copy the reports and the class report there before cleaning up
#   LABCTL_CLASS_STUDENTS  the students, as labctl class inventory --students takes them: 14,18
#                          (the default) or a count (4: st1..st4); the drill uses the first pair
#   LABCTL_CLASS_MODE      full (the default) or playbook: one playbook run and its wall time only
#                          (bench/class.sh); pair: the two-machine lab without Ansible
#                          (scripts/class/pair.sh, npm run test:pair)
# The whole script is one compound command, read before it runs: editing the file during a run
# does not change the run.
{
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
container="$repo/scripts/container"
cache=${LABCTL_CI_CACHE:-/var/cache/labctl-ci}

[ "$(id -u)" -eq 0 ] || { echo "test.sh: run as root (systemd-nspawn, network namespaces)" >&2; exit 2; }
for tool in systemd-nspawn nsenter zstd git node ip ssh ssh-keygen ansible-playbook flock; do
  command -v "$tool" >/dev/null || { echo "test.sh: $tool is missing (scripts/setup.sh --tests installs it)" >&2; exit 2; }
done

dev_null_expected='crw-rw-rw- root root'
dev_null() { stat -c '%A %U %G' /dev/null; }
[ "$(dev_null)" = "$dev_null_expected" ] || { echo "test.sh: /dev/null is already '$(dev_null)': fix the host first" >&2; exit 1; }

now() { date +%s.%N; }
timing() { awk -v p="$1" -v a="$2" -v b="$(now)" 'BEGIN { printf "timing: %-22s %6.1f s\n", p, b - a }'; }
log() { echo "test.sh: $*"; }
t_all=$(now)

students_spec=${LABCTL_CLASS_STUDENTS:-14,18}
mode=${1:-${LABCTL_CLASS_MODE:-full}}   # npm run test:pair passes "pair"
case "$mode" in full|playbook|pair) ;; *) echo "test.sh: LABCTL_CLASS_MODE=$mode: expected full, playbook or pair" >&2; exit 2 ;; esac
if [[ "$students_spec" =~ ^[0-9]+$ ]]; then numbers=($(seq 1 "$students_spec")); else IFS=, read -r -a numbers <<<"$students_spec"; fi
[ "${#numbers[@]}" -ge 2 ] && [ "${#numbers[@]}" -le 40 ] || { echo "test.sh: LABCTL_CLASS_STUDENTS=$students_spec: 2 to 40 students" >&2; exit 2; }
# The addresses labctl class inventory --subnet 10.77.0.0/24 gives: dns .2, students .11 upwards.
machines=(dns)
declare -A address=([ctl]=10.77.0.1 [dns]=10.77.0.2)
for k in "${!numbers[@]}"; do machines+=("st${numbers[$k]}"); address[st${numbers[$k]}]=10.77.0.$((11 + k)); done
students=("${machines[@]:1}")
primary=${students[0]} backup=${students[1]}   # the first pair backs each other up (--pairs pairs)
# The class build machine, the instructor's (inventory group labctl_build, in build.yml below).
machines+=(build)
address[build]=10.77.0.5
log "machines: ${machines[*]} ($mode)"
host_bridges() { ip -o link show type bridge | awk -F': ' '{ print $2 }' | sort; }
bridges_before=$(host_bridges)
prefix="lc$$"
# The release the playbook packs: the commit this run started at, for both runs (the playbook
# packs HEAD by default, and a commit made during the run would make the rerun copy a new release).
release_ref=$(git -C "$repo" rev-parse HEAD)
work=$(mktemp -d "${LABCTL_CONTAINER_WORK:-/var/tmp}/labctl-class.XXXXXX")
share="$work/share"
cgroup_roots=()
for hierarchy in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified /sys/fs/cgroup; do
  [ -e "$hierarchy/cgroup.procs" ] || continue
  case "$hierarchy" in /sys/fs/cgroup) [ "${#cgroup_roots[@]}" -eq 0 ] || continue ;; esac
  cgroup_roots+=("$hierarchy/labctl-class-$$")
done
declare -A nspawn_pid=()
egress_pid=""

cgroup_pids() {
  local cg
  for cg in "${cgroup_roots[@]}"; do [ -d "$cg" ] && find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null; done | sort -un
}
netns_pids() { local m; for m in ctl net "${machines[@]}"; do ip netns pids "$prefix-$m" 2>/dev/null; done | sort -un; }
mounts_under_work() { awk -v w="$work" '$5 == w || index($5, w "/") == 1 { print $5 }' /proc/self/mountinfo; }

cleanup() {
  local status=$? t0 m i pids
  trap - EXIT INT TERM
  t0=$(now)
  set +e
  if [ -n "${LABCTL_CLASS_KEEP_REPORTS:-}" ] && [ -d "$work/reports" ]; then
    mkdir -p "$LABCTL_CLASS_KEEP_REPORTS" && cp -a "$work/reports/." "$work"/*.log "$work/class.yml" "$LABCTL_CLASS_KEEP_REPORTS/" 2>/dev/null
  fi
  for m in "${!nspawn_pid[@]}"; do kill -TERM "${nspawn_pid[$m]}" 2>/dev/null; done
  for m in "${!nspawn_pid[@]}"; do
    for i in $(seq 1 100); do kill -0 "${nspawn_pid[$m]}" 2>/dev/null || break; sleep 0.2; done
    kill -0 "${nspawn_pid[$m]}" 2>/dev/null && { log "$m did not power off in 20 s: killing it"; kill -KILL "${nspawn_pid[$m]}"; }
    wait "${nspawn_pid[$m]}" 2>/dev/null
    rmdir "/run/systemd/nspawn/propagate/$prefix-$m" 2>/dev/null
  done
  if [ -n "$egress_pid" ]; then kill -TERM "$egress_pid" 2>/dev/null; wait "$egress_pid" 2>/dev/null; fi
  for i in 1 2 3 4 5; do
    pids=$( { cgroup_pids; netns_pids; } | sort -un)
    [ -z "$pids" ] && break
    [ "$i" -eq 1 ] && log "killing processes left in the run's cgroups and netns: $(echo $pids)"
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null
    sleep 0.2
  done
  pids=$( { cgroup_pids; netns_pids; pgrep -f -- "--machine=$prefix-" 2>/dev/null; } | sort -un)
  [ -z "$pids" ] || { log "processes left: $(ps -o pid=,args= -p "$(echo $pids | tr ' ' ,)" 2>/dev/null | head -n 5)"; status=1; }
  for m in "${machines[@]}" ctl net; do ip netns del "$prefix-$m" 2>/dev/null; done
  mounts_under_work | sort -r | while read -r mnt; do umount "$mnt" 2>/dev/null || umount -l "$mnt"; done
  if [ -n "$(mounts_under_work)" ]; then log "still mounted under $work, not removing it"; status=1; else rm -rf --one-file-system "$work"; fi
  for cg in "${cgroup_roots[@]}"; do
    [ -d "$cg" ] && find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
    [ -d "$cg" ] && { log "could not remove cgroup $cg"; status=1; }
  done
  [ -z "$(ip netns list | grep "^$prefix-")" ] || { log "netns left: $(ip netns list | grep "^$prefix-")"; status=1; }
  [ "$(host_bridges)" = "$bridges_before" ] || { log "the host's bridges changed: $(echo $(host_bridges)) (before: $(echo $bridges_before))"; status=1; }
  [ -z "$(ls /run/systemd/nspawn/propagate 2>/dev/null | grep "^$prefix-")" ] || { log "nspawn propagation directories left"; status=1; }
  if [ "$(dev_null)" != "$dev_null_expected" ]; then
    echo "test.sh: FATAL: the host's /dev/null changed to '$(dev_null)'; fix: chown root:root /dev/null; chmod 0666 /dev/null" >&2
    status=1
  fi
  timing teardown "$t0"
  timing "in all" "$t_all"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mount -t tmpfs -o "size=${LABCTL_CONTAINER_TMPFS_SIZE:-12g},mode=0700" labctl-class "$work"
mkdir -p "$share" "$work/reports" "$work/ansible-home" "$work/ansible-tmp" "$work/cp"

# 1. the root filesystem with sshd and python3, cached beside the smoke run's
t0=$(now)
base=$("$container/rootfs.sh")
key=$( { basename "$base"; sed -n '/^# BEGIN class rootfs/,/^# END class rootfs/p' "$0"; } | sha256sum | cut -c1-16)
class_tarball="$cache/class-rootfs-$key.tar.zst"
exec 9>"$cache/class-rootfs.lock"
flock 9
if [ ! -s "$class_tarball" ]; then
# BEGIN class rootfs
  log "building the class root filesystem (openssh-server, python3)"
  build="$work/build"
  mkdir -p "$build"
  zstd -q -d -c "$base" | tar -C "$build" --numeric-owner --xattrs -xf -
  printf '#!/bin/sh\nexit 101\n' >"$build/usr/sbin/policy-rc.d"
  chmod 755 "$build/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$build/etc/resolv.conf"
  mount -t proc proc "$build/proc"
  chroot "$build" /usr/bin/env DEBIAN_FRONTEND=noninteractive sh -c \
    'apt-get update -q && apt-get install -y -q --no-install-recommends openssh-server python3' >"$work/rootfs-build.log" 2>&1 \
    || { umount "$build/proc"; tail -n 30 "$work/rootfs-build.log"; exit 1; }
  umount "$build/proc"
  rm -f "$build/usr/sbin/policy-rc.d" "$build"/etc/ssh/ssh_host_* "$build/etc/resolv.conf"
  : >"$build/etc/machine-id"
  rm -rf "$build"/var/lib/apt/lists/* "$build"/var/cache/apt/*.bin "$build"/var/cache/apt/archives/*.deb
  tar -C "$build" --numeric-owner --xattrs -cf - . | zstd -q -T0 -3 -o "$work/class-rootfs.tar.zst"
  mv "$work/class-rootfs.tar.zst" "$class_tarball"
  rm -rf "$build"
  find "$cache" -maxdepth 1 -name 'class-rootfs-*.tar.zst' ! -name "$(basename "$class_tarball")" -delete
# END class rootfs
fi
exec 9>&-
timing rootfs "$t0"

# 2. the egress, shared by the three machines: the Debian archive's hosts and the npm registry's
hosts=$("$container/apt-sources.sh" | awk '{ print $1 }' | sed -E 's#^[a-z]+://([^/:]+).*#\1#' | sort -u)
registry=$(npm config get registry 2>/dev/null || true)
[ -n "$registry" ] || { log "npm config get registry gave nothing"; exit 1; }
hosts="$hosts $(echo "$registry" | sed -E 's#^[a-z]+://([^/:]+).*#\1#')"
node "$container/egress.mjs" "$share" $hosts >"$work/egress.log" 2>&1 &
egress_pid=$!
for i in $(seq 1 50); do [ -S "$share/tls.sock" ] && break; sleep 0.1; done
[ -S "$share/tls.sock" ] || { log "the egress did not start:"; cat "$work/egress.log"; exit 1; }
cp "${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}" "$share/host-ca.crt"

# 3. one root filesystem per machine: its own host keys, machine id and name; root's key; the egress
t0=$(now)
ssh-keygen -q -t ed25519 -N '' -C labctl-class -f "$work/id_ed25519"
: >"$work/known_hosts"
for m in "${machines[@]}"; do
  root="$work/$m"
  mkdir -p "$root"
  zstd -q -d -c "$class_tarball" | tar -C "$root" --numeric-owner --xattrs -xf -
  ssh-keygen -A -f "$root" >/dev/null
  tr -d '-' </proc/sys/kernel/random/uuid >"$root/etc/machine-id"
  echo "$m" >"$root/etc/hostname"
  sed -i "s/labctl-smoke/$m/" "$root/etc/hosts"
  echo "127.0.0.1 $(echo $hosts)" >>"$root/etc/hosts"
  echo "nameserver 127.0.0.53" >"$root/etc/resolv.conf"   # nothing yet; the playbook points it at dns
  install -d -m 700 "$root/root/.ssh"
  install -m 600 "$work/id_ed25519.pub" "$root/root/.ssh/authorized_keys"
  echo "${address[$m]} $(cut -d' ' -f1,2 "$root/etc/ssh/ssh_host_ed25519_key.pub")" >>"$work/known_hosts"
  printf 'registry=%s\ncafile=/mnt/labctl-ci/host-ca.crt\n' "$registry" >"$root/root/.npmrc"
  printf 'NODE_EXTRA_CA_CERTS=/mnt/labctl-ci/host-ca.crt\nSSL_CERT_FILE=/mnt/labctl-ci/host-ca.crt\n' >>"$root/etc/environment"
  mkdir -p "$root/etc/systemd/system/sockets.target.wants"
  for port in 80 443; do
    sock=$([ "$port" = 80 ] && echo http || echo tls)
    printf '# Written by labctl scripts/class/test.sh: the only way out.\n[Socket]\nListenStream=127.0.0.1:%s\n[Install]\nWantedBy=sockets.target\n' "$port" \
      >"$root/etc/systemd/system/ci-egress-$port.socket"
    printf '[Service]\nExecStart=/lib/systemd/systemd-socket-proxyd /mnt/labctl-ci/%s.sock\n' "$sock" >"$root/etc/systemd/system/ci-egress-$port.service"
    ln -sf "../ci-egress-$port.socket" "$root/etc/systemd/system/sockets.target.wants/ci-egress-$port.socket"
  done
done
timing "unpack x${#machines[@]}" "$t0"

# 4. the private network: a bridge in its own netns, one netns per machine and the controller
ip netns add "$prefix-net"
ip -n "$prefix-net" link add br0 type bridge
ip -n "$prefix-net" link set br0 up
for m in ctl "${machines[@]}"; do
  ip netns add "$prefix-$m"
  ip -n "$prefix-net" link add "v-$m" type veth peer name eth0 netns "$prefix-$m"
  ip -n "$prefix-net" link set "v-$m" master br0 up
  ip -n "$prefix-$m" addr add "${address[$m]}/24" dev eth0
  ip -n "$prefix-$m" link set eth0 up
  ip -n "$prefix-$m" link set lo up
done

# 5. boot the three, each from a cgroup of its own (--keep-unit leaves payload/ and supervisor/ there)
t0=$(now)
# The builder's compiler cache (labctl_ccache), kept between runs: the same Exim source and
# settings give the same objects, so a rerun of the class test compiles little.
ccache_dir="$cache/ccache-class"
mkdir -p "$ccache_dir"
for m in "${machines[@]}"; do
  for cg in "${cgroup_roots[@]}"; do mkdir -p "$cg/$m"; done
  (
    for cg in "${cgroup_roots[@]}"; do echo "$BASHPID" >"$cg/$m/cgroup.procs"; done
    exec nsenter --net="/run/netns/$prefix-$m" systemd-nspawn --boot --register=no --keep-unit --console=read-only \
      --network-namespace-path="/run/netns/$prefix-$m" --resolv-conf=off --timezone=off \
      --machine="$prefix-$m" --directory="$work/$m" --bind="$share:/mnt/labctl-ci" \
      --bind="$ccache_dir:/var/cache/labctl-ccache" \
      </dev/null >"$work/console-$m.log" 2>&1
  ) &
  nspawn_pid[$m]=$!
done
ssh_opts=(-i "$work/id_ed25519" -o BatchMode=yes -o UserKnownHostsFile="$work/known_hosts" -o StrictHostKeyChecking=yes -o ConnectTimeout=2)
# A command on a machine, over ssh from the controller's namespace.
on() { local m=$1; shift; ip netns exec "$prefix-ctl" ssh "${ssh_opts[@]}" "root@${address[$m]}" "$@"; }
for m in "${machines[@]}"; do
  ok=""
  for i in $(seq 1 100); do
    if ip netns exec "$prefix-ctl" ssh "${ssh_opts[@]}" "root@${address[$m]}" 'systemctl is-system-running --wait >/dev/null; true' 2>/dev/null; then ok=1; break; fi
    kill -0 "${nspawn_pid[$m]}" 2>/dev/null || break
    sleep 0.3
  done
  [ -n "$ok" ] || { log "$m did not come up with sshd:"; tail -n 30 "$work/console-$m.log"; exit 1; }
done
timing "boot + sshd x${#machines[@]}" "$t0"

# npm run test:pair: the same machines, set up with the README's commands only, no Ansible
# (scripts/class/pair.sh); it ends the run.
if [ "$mode" = pair ]; then
  # shellcheck source=pair.sh
  source "$here/pair.sh"
  exit "$fail"
fi

# 6. inventory and Ansible's configuration, all under the work directory
node "$repo/bin/labctl" class inventory --students "$students_spec" --domain 'st{n}.sne24.ru' --subnet 10.77.0.0/24 --out "$work/class.yml"
printf 'labctl_build:\n  hosts:\n    build:\n      ansible_host: %s\n' "${address[build]}" >"$work/build.yml"
cat >"$work/ansible.cfg" <<EOF
[defaults]
home = $work/ansible-home
local_tmp = $work/ansible-tmp
remote_tmp = /root/.ansible/tmp
remote_user = root
private_key_file = $work/id_ed25519
interpreter_python = /usr/bin/python3
host_key_checking = True
[ssh_connection]
control_path_dir = $work/cp
ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=$work/known_hosts -o StrictHostKeyChecking=yes
pipelining = True
EOF
# ansible-core's junit callback records each task's time per host (bench: where the time goes).
playbook() {
  ip netns exec "$prefix-ctl" env ANSIBLE_CONFIG="$work/ansible.cfg" ANSIBLE_FORCE_COLOR=0 \
    ANSIBLE_CALLBACKS_ENABLED=ansible.builtin.junit JUNIT_OUTPUT_DIR="$work/junit" JUNIT_TASK_CLASS=yes \
    ansible-playbook -i "$work/class.yml" -i "$work/build.yml" "$repo/ansible/site.yml" -e "labctl_reports_dir=$work/reports" -e "labctl_release_ref=$release_ref" -e labctl_ccache=true "$@"
}
recap() { sed -n '/^PLAY RECAP/,$p' "$1"; }


# 7. the playbook
t0=$(now)
playbook >"$work/run1.log" 2>&1 || { tail -n 80 "$work/run1.log"; log "the first playbook run failed"; exit 1; }
playbook_seconds=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
timing "playbook, first run" "$t0"
recap "$work/run1.log"
# The class DNS server's zones: how they grow with the class.
log "dns: $(on dns 'cd /var/lib/bind/labctl && echo "$(ls *.zone | wc -l) zone files, $(cat *.zone | grep -c " IN ") records, $(cat *.zone | wc -c) bytes"')"
if [ "$mode" = playbook ]; then
  # The slowest tasks: the longest host's time for each, in seconds.
  python3 - "$work/junit" <<'PY' || true
import glob, re, sys, xml.etree.ElementTree as ET
tasks = {}
for f in glob.glob(sys.argv[1] + "/*.xml"):
    for tc in ET.parse(f).iter("testcase"):
        name = tc.get("name", "")
        task = name.split("] ", 1)[-1] if name.startswith("[") else name
        # "Play name: role : task name arg=value ...": the role and the task's name only
        task = re.sub(r" [A-Za-z_]+=.*$", "", task.split(": ", 1)[-1] if " : " in task.split(": ", 1)[-1] else task)
        tasks[task] = max(tasks.get(task, 0.0), float(tc.get("time", 0)))
for task, t in sorted(tasks.items(), key=lambda kv: -kv[1])[:6]:
    print(f"task: {t:7.1f} s  {task}")
PY
  # bench/class.sh reads this line.
  log "bench: ${#students[@]} students, forks $(ip netns exec "$prefix-ctl" env ANSIBLE_CONFIG="$work/ansible.cfg" ansible-config dump 2>/dev/null | sed -n 's/^DEFAULT_FORKS([^)]*) = //p'), first playbook run $playbook_seconds s"
  exit 0
fi

# 8. verify on every student machine: every check of the catalogue ran, none failed, and
# 5a-backup-relay passes against its partner
fail=0
catalogue=$(node --input-type=module -e "import { CHECK_IDS } from '$repo/dist/verify/catalogue.js'; console.log(CHECK_IDS.join(' '))")
for m in "${students[@]}"; do
  [ -s "$work/reports/$m.json" ] || { log "no report from $m"; fail=1; continue; }
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const c = Object.fromEntries(r.checks.map((x) => [x.id, x]));
    // Every check of the catalogue ran (a truncated report would otherwise pass with nothing failed).
    const ids = r.checks.map((x) => x.id).join(" ");
    if (ids !== process.argv[3]) { console.log(`${process.argv[2]}: checks ${ids}; expected ${process.argv[3]}`); process.exit(1); }
    console.log(`${process.argv[2]}: ${r.passed} passed, ${r.failed} failed, ${r.warned} warned, ${r.skipped} skipped; 5a-backup-relay ${c["5a-backup-relay"]?.status}: ${c["5a-backup-relay"]?.summary}`);
    for (const x of r.checks) if (x.status === "fail") console.log(`  fail ${x.id}: ${x.summary}`);
    process.exit(c["5a-backup-relay"]?.status === "pass" && r.failed === 0 ? 0 : 1);' "$work/reports/$m.json" "$m" "$catalogue" || fail=1
done

# 9. the backup-MX drill across machines: the primary's Exim stopped with systemctl, a client on
# the backup sends by MX lookup (MX 10 refuses, MX 20 is the backup, which holds them), the
# primary started again, the backup's queue run delivers, and each message arrives exactly once.
t0=$(now)
drill_n=20
run_id="class-drill-$$-$(date +%s)"
primary_domain="$primary.sne24.ru" backup_domain="$backup.sne24.ru"   # --domain st{n}.sne24.ru
rcpt="exim-test@$primary_domain"
exim=/usr/exim/bin/exim
mailbox=/var/mail/exim-test
count_in_mailbox() { on "$primary" "grep -ci '^message-id: <$run_id-' $mailbox || true"; }
drill_fail() { log "drill: $*"; fail=1; }
before=$(count_in_mailbox)
[ "$before" = 0 ] || drill_fail "$primary already has $before messages of this run"
on "$primary" systemctl stop exim
state=$(on "$primary" systemctl is-active exim || true)
[ "$state" = inactive ] || drill_fail "$primary: systemctl is-active exim says $state after systemctl stop exim"
queued_before=$(on "$backup" "$exim -bpc")
cat >"$share/drill-client.sh" <<'CLIENT'
#!/bin/sh
# The drill's client on the backup machine: for each message, the MX records of the recipient's
# domain by priority (the class DNS), and the first that accepts it. Prints "MESSAGE-ID MX-HOST".
set -u
run=$1 n=$2 from=$3 to=$4
mx=$(dig +short MX "${to#*@}" | sort -n | awk '{ sub(/\.$/, "", $2); print $2 }')
[ -n "$mx" ] || { echo "no MX records for ${to#*@}" >&2; exit 1; }
i=1
while [ "$i" -le "$n" ]; do
  id="$run-$i@${from#*@}" ok=""
  for host in $mx; do
    if swaks -tlso --server "$host" --from "$from" --to "$to" --h-Subject "class backup-MX drill $i of $n" \
        --add-header "Message-ID: <$id>" --body "backup-MX drill message $i of $n" >"/tmp/drill-$i-$host.log" 2>&1; then
      echo "$id $host"; ok=1; break
    fi
  done
  [ -n "$ok" ] || { echo "$id: no MX accepted it:" >&2; for host in $mx; do echo "== $host" >&2; tail -n 12 "/tmp/drill-$i-$host.log" >&2; done; exit 1; }
  i=$((i + 1))
done
CLIENT
if ! on "$backup" sh /mnt/labctl-ci/drill-client.sh "$run_id" "$drill_n" "postmaster@$backup_domain" "$rcpt" >"$work/drill-sent.txt" 2>"$work/drill-client.err"; then
  cat "$work/drill-client.err"; drill_fail "the client on $backup could not hand over all $drill_n messages"
fi
sent_by_backup=$(grep -c " mail\.$backup_domain\$" "$work/drill-sent.txt" || true)
log "drill: $primary stopped; the client on $backup handed over $(wc -l <"$work/drill-sent.txt") of $drill_n messages, $sent_by_backup of them to mail.$backup_domain (MX 20)"
[ "$sent_by_backup" = "$drill_n" ] || { sort "$work/drill-sent.txt" | awk '{ print $2 }' | uniq -c; drill_fail "expected all $drill_n accepted by MX 20"; }
sleep 2
held=$(( $(on "$backup" "$exim -bpc") - queued_before ))
log "drill: $held messages held in $backup's queue; $(count_in_mailbox) in $primary's mailbox"
[ "$held" = "$drill_n" ] || drill_fail "expected $drill_n held on $backup"
on "$primary" systemctl start exim
for i in $(seq 1 50); do on "$primary" "exec 3<>/dev/tcp/127.0.0.1/25 && head -c 3 <&3" 2>/dev/null | grep -q 220 && break; sleep 0.2; done
state=$(on "$primary" systemctl is-active exim || true)
[ "$state" = active ] || drill_fail "$primary: systemctl is-active exim says $state after systemctl start exim"
on "$backup" "$exim -qff" || drill_fail "$backup: exim -qff failed"
arrived=0
for i in $(seq 1 150); do arrived=$(count_in_mailbox); [ "$arrived" -ge "$drill_n" ] && break; sleep 0.4; done
sleep 3   # a duplicate would come right behind
on "$primary" "grep -i '^message-id: <$run_id-' $mailbox" | tr -d '\r' | sort | uniq -c | sort -rn >"$work/drill-arrived.txt"
distinct=$(wc -l <"$work/drill-arrived.txt")
repeats=$(awk '$1 > 1' "$work/drill-arrived.txt" | wc -l)
left=$(( $(on "$backup" "$exim -bpc") - queued_before ))
log "drill: $primary started again; $distinct distinct of $drill_n arrived, $repeats more than once, $left still queued on $backup"
[ "$distinct" = "$drill_n" ] && [ "$repeats" = 0 ] && [ "$left" -le 0 ] || { head -n 5 "$work/drill-arrived.txt"; drill_fail "expected each of the $drill_n messages exactly once in $primary's mailbox and $backup's queue empty"; }
timing "backup-MX drill" "$t0"

# 10. the playbook again: nothing to change
t0=$(now)
playbook >"$work/run2.log" 2>&1 || { tail -n 80 "$work/run2.log"; log "the second playbook run failed"; exit 1; }
timing "playbook, rerun" "$t0"
recap "$work/run2.log"
# A recap line for every machine (and the controller's localhost play): a host missing from the
# recap would otherwise count as unchanged.
recap_lines=$(recap "$work/run2.log" | grep -E '^[A-Za-z0-9._-]+ +: ok=' || true)
for m in "${machines[@]}" localhost; do
  grep -qE "^$m +: ok=" <<<"$recap_lines" || { log "the rerun's recap has no line for $m"; fail=1; }
done
changed=$(grep -v 'changed=0 ' <<<"$recap_lines" || true)
if [ -n "$changed" ]; then
  log "the rerun changed something:"; echo "$changed"
  grep -E '^(changed|TASK)' "$work/run2.log" | grep -B1 '^changed' || true
  fail=1
fi

# 11. the class report from the rerun's reports, opened in headless Chromium
node "$repo/bin/labctl" report --class "$work/reports" --inventory "$work/class.yml" --html "$work/reports/class-report.html" || fail=1
node "$repo/scripts/class/check-report.mjs" "$work/reports/class-report.html" "$work/reports/class-report.png" "${students[@]}" || fail=1

# 11b. trust boundaries of the build and the release
t0=$(now)
# The build was made on the build machine only: no student ran make; each student ran the verified
# tarball's own install script, with the digest the controller took of the export it fetched.
digest=$(sha256sum "$repo/build/class/exim-build/build.json" | cut -d' ' -f1)
log "build: build.json fetched from build, sha256 $digest (taken on the controller)"
grep -A$((${#machines[@]} + 2)) '^TASK \[labctl_host : labctl install (with labctl_build_once' "$work/run1.log" | grep -E '^changed: \[build\]' >/dev/null ||
  { log "the first run did not build on the build machine"; fail=1; }
for m in "${students[@]}"; do
  ran=$(on "$m" "grep '^\\\$ ' /var/lib/labctl/build/exim-*.build.log" || true)
  if grep -q '^\$ make' <<<"$ran" || ! grep -q '^\$ sh \.\./scripts/exim_install' <<<"$ran"; then log "$m: expected only the install script, ran: $ran"; fail=1; fi
  on "$m" "cmp -s /var/lib/labctl-class/exim-build/build.json - " <"$repo/build/class/exim-build/build.json" || { log "$m: its build.json is not the controller's"; fail=1; }
done
log "build: no make on ${students[*]}, each installed with scripts/exim_install from the verified tarball"
# The packed release carries its lock, and st14 runs exactly the locked packages on the pinned Node.js.
tar -tzf "$repo/build/class/labctl.tgz" | grep -x 'package/npm-shrinkwrap.json' >/dev/null || { log "the packed release has no npm-shrinkwrap.json"; fail=1; }
tar -tzf "$repo/build/class/labctl.tgz" | grep -x 'package/package-lock.json' >/dev/null && { log "the packed release still has package-lock.json"; fail=1; }
cmp -s <(tar -xzOf "$repo/build/class/labctl.tgz" package/npm-shrinkwrap.json) <(git -C "$repo" show "$release_ref:package-lock.json") ||
  { log "the packed npm-shrinkwrap.json is not the commit's package-lock.json"; fail=1; }
# Built as `npm run build` builds: the signature check bundled into one module (scripts/bundle.mjs),
# not tsc's re-export of the modules one by one.
tar -xzOf "$repo/build/class/labctl.tgz" package/dist/source/release-check.js | grep -E "from ['\"]\./release-keys\.js" >/dev/null &&
  { log "the packed release's dist/source/release-check.js is not the bundle npm run build makes"; fail=1; }
cp "$repo/scripts/class/check-lock.mjs" "$share/check-lock.mjs"
on "$primary" 'node /mnt/labctl-ci/check-lock.mjs "$(dirname "$(dirname "$(readlink -f /usr/local/bin/labctl)")")"' || fail=1
node_version=$(on "$primary" 'node --version; readlink -f "$(command -v node)"' | tr '\n' ' ')
grep -q "^v20.20.2 /opt/labctl-node/node_modules/node-linux-" <<<"$node_version" || { log "$primary: node is $node_version, expected the pinned v20.20.2"; fail=1; }
log "release: npm-shrinkwrap.json packed and obeyed on $primary; node $node_version"
# A tampered export whose build.json was rewritten to match it: labctl install --from-build with the
# controller's digest refuses it, and the installed Exim is untouched.
before=$(on "$backup" 'readlink -f /usr/exim/bin/exim; systemctl is-active exim')
tamper_out=$(on "$backup" "rm -rf /root/tampered && cp -a /var/lib/labctl-class/exim-build /root/tampered && cd /root/tampered &&
  python3 - <<'PY'
import hashlib, json
m = json.load(open('build.json'))
data = bytearray(open(m['tree'], 'rb').read())
data[len(data) // 2] ^= 0xFF
open(m['tree'], 'wb').write(data)
m['treeSha256'] = hashlib.sha256(data).hexdigest()
open('build.json', 'w').write(json.dumps(m, indent=2) + '\n')
PY
  labctl install --from-build /root/tampered --sha256 $digest --yes; echo \"exit \$?\"" 2>&1 || true)
grep -q "build.json has sha256 [0-9a-f]*, not the $digest given with --sha256" <<<"$tamper_out" && grep -q '^exit 1$' <<<"$tamper_out" ||
  { log "$backup: the tampered export was not refused:"; echo "$tamper_out" | tail -n 5; fail=1; }
[ "$(on "$backup" 'readlink -f /usr/exim/bin/exim; systemctl is-active exim')" = "$before" ] || { log "$backup: the refused install changed Exim"; fail=1; }
log "tampered export (tree changed, build.json made to match): refused on $backup ($(grep '^labctl:' <<<"$tamper_out" | head -n 1 | cut -c1-120)...)"
# A build machine that is not to be trusted: its labctl (here a stand-in in /usr/local/sbin, ahead of
# /usr/local/bin on the PATH) reports success and leaves a build.json whose tarball name climbs out
# of the controller's fetch directory. The playbook refuses the name before fetching anything.
printf '#!/bin/sh\n# A build machine not to be trusted: "labctl install" succeeds and builds nothing.\necho '"'"'{"steps": []}'"'"'\n' >"$share/fake-labctl"
printf '{"schema": 1, "version": "4.98.2", "tarball": "../../escaped.txt", "tree": "exim-4.98.2-build.tar.gz"}\n' >"$share/evil-build.json"
on build 'mkdir -p /root/evil/export && echo pwned >/root/escaped.txt && cp /mnt/labctl-ci/evil-build.json /root/evil/export/build.json &&
  install -m 755 /mnt/labctl-ci/fake-labctl /usr/local/sbin/labctl'
mkdir -p "$work/evil/fetched"
if playbook --limit build -e labctl_build_remote=/root/evil/export -e labctl_build_local="$work/evil/fetched" >"$work/run-evil.log" 2>&1; then
  log "the playbook accepted a build.json naming ../../escaped.txt"; fail=1
fi
on build 'rm -f /usr/local/sbin/labctl'
grep -q 'build.json on build names tarball [\\"]*\.\./\.\./escaped\.txt' "$work/run-evil.log" || { log "the playbook did not refuse the name:"; grep -E '^(TASK|fatal|failed)' "$work/run-evil.log" | tail -n 6; fail=1; }
[ ! -e "$work/escaped.txt" ] && [ -z "$(ls -A "$work/evil/fetched")" ] || { log "the playbook fetched something from the untrusted build machine"; fail=1; }
log "build.json naming ../../escaped.txt: refused by the playbook ($(grep -o 'build.json on build names tarball [^,]*' "$work/run-evil.log" | head -n 1 | tr -d '\\')), nothing fetched"
timing "trust boundaries" "$t0"

# 12. --check is labctl's --dry-run: st14's configure file drifts (a line appended); a check run
# reports labctl configure (--dry-run, exact) as a change on st14 only, labctl install (--dry-run,
# which resolves the release from the cache and the listing) as unchanged on every student machine,
# changes nothing on any machine (the drift stays; the DNS server's tasks are all unchanged), and
# fails nowhere. Then the file is put back.
t0=$(now)
conf=/usr/exim/configure
on "$primary" "cp -p $conf $conf.classtest && echo '# drift (class test)' >> $conf"
drifted=$(on "$primary" "sha256sum < $conf")
if playbook --check >"$work/run3.log" 2>&1; then
  recap "$work/run3.log"
  configure_task=$(sed -n '/^TASK \[labctl_host : labctl configure\]/,/^$/p' "$work/run3.log")
  for m in "${students[@]}"; do
    want=ok; [ "$m" = "$primary" ] && want=changed
    grep -q "^$want: \[$m\]" <<<"$configure_task" || { log "--check: labctl configure on $m is not '$want':"; echo "$configure_task"; fail=1; }
  done
  install_task=$(sed -n '/^TASK \[labctl_host : labctl install (with labctl_build_once/,/^$/p' "$work/run3.log")
  for m in "${students[@]}"; do
    grep -q "^ok: \[$m\]" <<<"$install_task" || { log "--check: labctl install on $m is not 'ok' (changed=0 expected for install):"; echo "$install_task"; fail=1; }
  done
  recap "$work/run3.log" | grep -qE '^dns +: ok=[0-9]+ +changed=0 ' || { log "--check: the DNS server's recap shows a change"; fail=1; }
  [ "$(on "$primary" "sha256sum < $conf")" = "$drifted" ] || { log "--check changed $conf on $primary"; fail=1; }
else
  tail -n 60 "$work/run3.log"; log "ansible-playbook --check failed"; fail=1
fi
on "$primary" "mv $conf.classtest $conf"
timing "playbook --check" "$t0"

refused=$(grep -c ' refused ' "$work/egress.log" || true)
log "egress: $(grep -c ' allowed ' "$work/egress.log" || true) connections allowed, $refused refused"
[ "$fail" -eq 0 ] && log "passed: playbook, verify on ${students[*]} (5a-backup-relay included), backup-MX drill ($drill_n messages, each once), changed=0 rerun, class report, --check as --dry-run" || log "FAILED"
exit "$fail"
}
