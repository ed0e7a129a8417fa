#!/usr/bin/env bash
# npm run test:class: the class playbook (ansible/site.yml) against three booted Debian 12
# containers, dns, st14 and st18, each a separate machine with systemd and sshd, on a private
# bridge that only they and the controller see. Checks that the playbook passes, that st14 and
# st18 each pass 5a-backup-relay against the other, builds the class report, and runs the playbook
# a second time expecting changed=0 on every host. Needs root and scripts/setup.sh --tests.
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
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
container="$repo/scripts/container"
cache=${LABCTL_CI_CACHE:-/var/cache/labctl-ci}

[ "$(id -u)" -eq 0 ] || { echo "test.sh: run as root (systemd-nspawn, network namespaces)" >&2; exit 2; }
for tool in systemd-nspawn nsenter zstd git node ip ssh ssh-keygen ansible-playbook; do
  command -v "$tool" >/dev/null || { echo "test.sh: $tool is missing (scripts/setup.sh --tests installs it)" >&2; exit 2; }
done

dev_null_expected='crw-rw-rw- root root'
dev_null() { stat -c '%A %U %G' /dev/null; }
[ "$(dev_null)" = "$dev_null_expected" ] || { echo "test.sh: /dev/null is already '$(dev_null)': fix the host first" >&2; exit 1; }

now() { date +%s.%N; }
timing() { awk -v p="$1" -v a="$2" -v b="$(now)" 'BEGIN { printf "timing: %-22s %6.1f s\n", p, b - a }'; }
log() { echo "test.sh: $*"; }
t_all=$(now)

machines=(dns st14 st18)
declare -A address=([ctl]=10.77.0.1 [dns]=10.77.0.2 [st14]=10.77.0.11 [st18]=10.77.0.12)
prefix="lc$$"
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
    mkdir -p "$LABCTL_CLASS_KEEP_REPORTS" && cp -a "$work/reports/." "$work"/*.log "$LABCTL_CLASS_KEEP_REPORTS/" 2>/dev/null
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
  for m in "${machines[@]}" ctl net; do ip netns del "$prefix-$m" 2>/dev/null; done
  mounts_under_work | sort -r | while read -r mnt; do umount "$mnt" 2>/dev/null || umount -l "$mnt"; done
  if [ -n "$(mounts_under_work)" ]; then log "still mounted under $work, not removing it"; status=1; else rm -rf --one-file-system "$work"; fi
  for cg in "${cgroup_roots[@]}"; do
    [ -d "$cg" ] && find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
    [ -d "$cg" ] && { log "could not remove cgroup $cg"; status=1; }
  done
  [ -z "$(ip netns list | grep "^$prefix-")" ] || { log "netns left: $(ip netns list | grep "^$prefix-")"; status=1; }
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
timing "unpack x3" "$t0"

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
for m in "${machines[@]}"; do
  for cg in "${cgroup_roots[@]}"; do mkdir -p "$cg/$m"; done
  (
    for cg in "${cgroup_roots[@]}"; do echo "$BASHPID" >"$cg/$m/cgroup.procs"; done
    exec nsenter --net="/run/netns/$prefix-$m" systemd-nspawn --boot --register=no --keep-unit --console=read-only \
      --network-namespace-path="/run/netns/$prefix-$m" --resolv-conf=off --timezone=off \
      --machine="$prefix-$m" --directory="$work/$m" --bind="$share:/mnt/labctl-ci" \
      </dev/null >"$work/console-$m.log" 2>&1
  ) &
  nspawn_pid[$m]=$!
done
ssh_opts=(-i "$work/id_ed25519" -o BatchMode=yes -o UserKnownHostsFile="$work/known_hosts" -o StrictHostKeyChecking=yes -o ConnectTimeout=2)
for m in "${machines[@]}"; do
  ok=""
  for i in $(seq 1 100); do
    if ip netns exec "$prefix-ctl" ssh "${ssh_opts[@]}" "root@${address[$m]}" 'systemctl is-system-running --wait >/dev/null; true' 2>/dev/null; then ok=1; break; fi
    kill -0 "${nspawn_pid[$m]}" 2>/dev/null || break
    sleep 0.3
  done
  [ -n "$ok" ] || { log "$m did not come up with sshd:"; tail -n 30 "$work/console-$m.log"; exit 1; }
done
timing "boot + sshd x3" "$t0"

# 6. inventory and Ansible's configuration, all under the work directory
node "$repo/bin/labctl" class inventory --students 14,18 --domain 'st{n}.sne24.ru' --subnet 10.77.0.0/24 --out "$work/class.yml"
cat >"$work/ansible.cfg" <<EOF
[defaults]
home = $work/ansible-home
local_tmp = $work/ansible-tmp
remote_tmp = /root/.ansible/tmp
remote_user = root
private_key_file = $work/id_ed25519
interpreter_python = /usr/bin/python3
host_key_checking = True
forks = 5
[ssh_connection]
control_path_dir = $work/cp
ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=$work/known_hosts -o StrictHostKeyChecking=yes
pipelining = True
EOF
playbook() {
  ip netns exec "$prefix-ctl" env ANSIBLE_CONFIG="$work/ansible.cfg" ANSIBLE_FORCE_COLOR=0 \
    ansible-playbook -i "$work/class.yml" "$repo/ansible/site.yml" -e "labctl_reports_dir=$work/reports" "$@"
}
recap() { sed -n '/^PLAY RECAP/,$p' "$1"; }

# 7. the playbook, twice
t0=$(now)
playbook >"$work/run1.log" 2>&1 || { tail -n 80 "$work/run1.log"; log "the first playbook run failed"; exit 1; }
timing "playbook, first run" "$t0"
recap "$work/run1.log"

fail=0
for m in st14 st18; do
  [ -s "$work/reports/$m.json" ] || { log "no report from $m"; fail=1; continue; }
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const c = Object.fromEntries(r.checks.map((x) => [x.id, x]));
    console.log(`${process.argv[2]}: ${r.passed} passed, ${r.failed} failed, ${r.warned} warned, ${r.skipped} skipped; 5a-backup-relay ${c["5a-backup-relay"]?.status}: ${c["5a-backup-relay"]?.summary}`);
    for (const x of r.checks) if (x.status === "fail") console.log(`  fail ${x.id}: ${x.summary}`);
    process.exit(c["5a-backup-relay"]?.status === "pass" ? 0 : 1);' "$work/reports/$m.json" "$m" || fail=1
done
node "$repo/bin/labctl" class report "$work/reports" --inventory "$work/class.yml" --out "$work/reports/class-report.md"

t0=$(now)
playbook >"$work/run2.log" 2>&1 || { tail -n 80 "$work/run2.log"; log "the second playbook run failed"; exit 1; }
timing "playbook, rerun" "$t0"
recap "$work/run2.log"
changed=$(recap "$work/run2.log" | grep -E '^[a-z0-9]+ +:' | grep -v 'changed=0 ' || true)
if [ -n "$changed" ]; then
  log "the rerun changed something:"; echo "$changed"
  grep -E '^(changed|TASK)' "$work/run2.log" | grep -B1 '^changed' || true
  fail=1
fi
refused=$(grep -c ' refused ' "$work/egress.log" || true)
log "egress: $(grep -c ' allowed ' "$work/egress.log" || true) connections allowed, $refused refused"
[ "$fail" -eq 0 ] && log "passed: playbook, 5a-backup-relay both ways, class report, changed=0 rerun" || log "FAILED"
exit "$fail"
