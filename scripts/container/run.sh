#!/usr/bin/env bash
# Runs COMMAND inside a fresh Debian container with systemd as PID 1 and prints its output; exits
# with its status. Built for CI machines without a container engine (see docs/testing.md, "Container smoke"):
#
#   scripts/container/run.sh ROOTFS_TARBALL -- COMMAND...
#
#  1. unpacks ROOTFS_TARBALL (scripts/container/rootfs.sh) into a new work directory;
#  2. puts a clean copy of the repository there (git archive HEAD: nothing uncommitted, no
#     node_modules, dist or build), bound into the container at /root/labctl;
#  3. starts the egress (egress.mjs) on unix sockets bound in at /mnt/labctl-ci, which the
#     container's systemd-socket-proxyd serves as 127.0.0.1:80 and :443 for the Debian archive's
#     and the npm registry's names (/etc/hosts): no host network namespace, route or firewall rule
#     is touched, and every other name fails to resolve inside;
#  4. boots it with systemd-nspawn --boot --private-network --register=no --keep-unit from a
#     per-run cgroup, waits for `systemctl is-system-running --wait`;
#  5. runs COMMAND in /root/labctl as a transient unit of the container's systemd (systemd-run
#     --pipe --wait, entered with nsenter), so it has the container's capabilities, not ours.
# On exit or signal it always powers the container off, stops the egress, kills what is left in
# its cgroups, unmounts anything under the work directory, removes it and the cgroups, and checks
# that /dev/null is still crw-rw-rw- root root (a console handed in from the host's /dev once left
# it root:tty 0620, and every Exim delivery on the machine failed after that).
#
#   LABCTL_CONTAINER_WORK        where work directories go (default /var/tmp)
#   LABCTL_CONTAINER_CCACHE      a host directory kept between runs: bound in as the container's
#                                compiler cache, with LABCTL_CCACHE=1 set (src/system/ccache.ts)
#   LABCTL_CONTAINER_TMPFS_SIZE  the tmpfs the work directory is (default 8g; memory used as filled)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

usage() { echo "usage: $0 ROOTFS_TARBALL -- COMMAND..." >&2; exit 2; }
[ $# -ge 3 ] && [ "$2" = "--" ] || usage
tarball=$1
shift 2
[ -s "$tarball" ] || { echo "run.sh: no rootfs tarball at $tarball (scripts/container/rootfs.sh builds it)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "run.sh: run as root (systemd-nspawn)" >&2; exit 2; }
for tool in systemd-nspawn nsenter zstd git node; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is missing (scripts/setup.sh --tests installs the container tools)" >&2; exit 2; }
done

dev_null_expected='crw-rw-rw- root root'
dev_null() { stat -c '%A %U %G' /dev/null; }
if [ "$(dev_null)" != "$dev_null_expected" ]; then
  echo "run.sh: /dev/null is already '$(dev_null)', not '$dev_null_expected': fix the host first" >&2
  exit 1
fi

now() { date +%s.%N; }
t_all=$(now)
# Every line names the release it booted, once the root filesystem is unpacked.
release=""
timing() { awk -v r="${release:+ ($release)}" -v p="$1" -v a="$2" -v b="$(now)" 'BEGIN { printf "timing: %-10s %6.1f s%s\n", p, b - a, r }'; }
log() { echo "run.sh${release:+ ($release)}: $*"; }

work=$(mktemp -d "${LABCTL_CONTAINER_WORK:-/var/tmp}/labctl-container.XXXXXX")
root="$work/root"
share="$work/share"      # bound at /mnt/labctl-ci: egress sockets, the host's CA bundle
name="labctl-smoke-$$"
cgroups=()
for hierarchy in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified /sys/fs/cgroup; do
  # Hybrid hosts have name=systemd and cgroup2 at unified/; a pure cgroup2 host only the root.
  [ -e "$hierarchy/cgroup.procs" ] || continue
  case "$hierarchy" in /sys/fs/cgroup) [ "${#cgroups[@]}" -eq 0 ] || continue ;; esac
  cgroups+=("$hierarchy/labctl-container-$$")
done
nspawn_pid=""
egress_pid=""
command_pid=""

# Every process still in the run's cgroups (the container's, nspawn's), deepest first.
cgroup_pids() {
  local cg
  for cg in "${cgroups[@]}"; do
    [ -d "$cg" ] && find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null
  done | sort -un
}

mounts_under_work() { awk -v w="$work" '$5 == w || index($5, w "/") == 1 { print $5 }' /proc/self/mountinfo; }

cleanup() {
  local status=$? t0 pid i
  trap - EXIT INT TERM
  t0=$(now)
  set +e
  [ -n "$command_pid" ] && kill -TERM "$command_pid" 2>/dev/null
  if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
    # nspawn turns SIGTERM into an orderly poweroff of the container's systemd.
    kill -TERM "$nspawn_pid"
    for i in $(seq 1 100); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$nspawn_pid" 2>/dev/null && { log "the container did not power off in 20 s: killing it"; tail -n 20 "$work/console.log"; kill -KILL "$nspawn_pid"; }
    wait "$nspawn_pid" 2>/dev/null
    timing poweroff "$t0"
  fi
  if [ -n "$egress_pid" ]; then kill -TERM "$egress_pid" 2>/dev/null; wait "$egress_pid" 2>/dev/null; fi
  for i in 1 2 3 4 5; do
    pids=$(cgroup_pids)
    [ -z "$pids" ] && break
    [ "$i" -eq 1 ] && log "killing processes left in the run's cgroups: $(echo $pids)"
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null
    sleep 0.2
  done
  # The work directory is a tmpfs: unmounting it removes the unpacked tree and the repository copy.
  mounts_under_work | sort -r | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
  if [ -n "$(mounts_under_work)" ]; then
    log "still mounted under $work, not removing it:"; mounts_under_work
    status=1
  else
    rm -rf --one-file-system "$work"
  fi
  for cg in "${cgroups[@]}"; do
    [ -d "$cg" ] && find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
    [ -d "$cg" ] && { log "could not remove cgroup $cg"; status=1; }
  done
  rmdir "/run/systemd/nspawn/propagate/$name" 2>/dev/null
  if [ -n "$(cgroup_pids)" ]; then log "processes left over: $(cgroup_pids | tr '\n' ' ')"; status=1; fi
  if [ "$(dev_null)" != "$dev_null_expected" ]; then
    echo "run.sh: FATAL: the host's /dev/null changed to '$(dev_null)' (expected '$dev_null_expected')." >&2
    echo "run.sh: every Exim delivery on this machine fails until it is fixed: chown root:root /dev/null; chmod 0666 /dev/null" >&2
    status=1
  fi
  timing teardown "$t0"
  timing "in all" "$t_all"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 1. unpack, onto a tmpfs: unpacking and removing 250 MB of small files on a busy disk took 10 s each
t0=$(now)
mount -t tmpfs -o "size=${LABCTL_CONTAINER_TMPFS_SIZE:-8g},mode=0700" labctl-container "$work"
mkdir -p "$root" "$share" "$work/repo"
zstd -q -d -c "$tarball" | tar -C "$root" --numeric-owner --xattrs -xf -
release=$(. "$root/etc/os-release" && echo "Debian ${VERSION_ID:-?} ${VERSION_CODENAME:-}" | sed 's/ *$//')
timing unpack "$t0"

# 2. a clean copy of the repository
commit=$(git -C "$repo" rev-parse --short HEAD)
git -C "$repo" archive --format=tar HEAD | tar -C "$work/repo" -xf -
if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]; then
  log "the repository has uncommitted changes; the container gets HEAD ($commit) without them"
else
  log "repository: HEAD ($commit)"
fi

# 3. egress: the Debian archive's hosts (from this machine's apt sources) and the npm registry's
hosts=$("$here/apt-sources.sh" | awk '{ print $1 }' | sed -E 's#^[a-z]+://([^/:]+).*#\1#' | sort -u)
registry=$(npm config get registry 2>/dev/null || true)
[ -n "$registry" ] || { log "npm config get registry gave nothing: the container could not reach the npm registry"; exit 1; }
hosts="$hosts $(echo "$registry" | sed -E 's#^[a-z]+://([^/:]+).*#\1#')"
node "$here/egress.mjs" "$share" $hosts >"$work/egress.log" 2>&1 &
egress_pid=$!
for i in $(seq 1 50); do [ -S "$share/tls.sock" ] && break; sleep 0.1; done
[ -S "$share/tls.sock" ] || { log "the egress did not start:"; cat "$work/egress.log"; exit 1; }
cp "${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}" "$share/host-ca.crt"
echo "127.0.0.1 $(echo $hosts)" >>"$root/etc/hosts"
for port in 80 443; do
  sock=$([ "$port" = 80 ] && echo http || echo tls)
  cat >"$root/etc/systemd/system/ci-egress-$port.socket" <<EOF
# Written by labctl's scripts/container/run.sh: the only way out of the smoke container.
[Socket]
ListenStream=127.0.0.1:$port
[Install]
WantedBy=sockets.target
EOF
  cat >"$root/etc/systemd/system/ci-egress-$port.service" <<EOF
[Service]
ExecStart=/lib/systemd/systemd-socket-proxyd /mnt/labctl-ci/$sock.sock
EOF
  mkdir -p "$root/etc/systemd/system/sockets.target.wants"
  ln -sf "../ci-egress-$port.socket" "$root/etc/systemd/system/sockets.target.wants/ci-egress-$port.socket"
done

# 4. boot, from a per-run cgroup (--keep-unit leaves payload/ and supervisor/ in it)
t0=$(now)
ccache_bind=() ccache_env=()
if [ -n "${LABCTL_CONTAINER_CCACHE:-}" ]; then
  mkdir -p "$LABCTL_CONTAINER_CCACHE"
  ccache_bind=(--bind="$LABCTL_CONTAINER_CCACHE:/var/cache/labctl-ccache")
  ccache_env=(--setenv=LABCTL_CCACHE=1)
fi
for cg in "${cgroups[@]}"; do mkdir -p "$cg"; done
(
  for cg in "${cgroups[@]}"; do echo "$BASHPID" >"$cg/cgroup.procs"; done
  # --console=read-only: the container gets its own pty as console, never a device of ours.
  exec systemd-nspawn --boot --private-network --register=no --keep-unit --console=read-only \
    --machine="$name" --directory="$root" \
    --bind="$work/repo:/root/labctl" --bind="$share:/mnt/labctl-ci" "${ccache_bind[@]}" \
    </dev/null >"$work/console.log" 2>&1
) &
nspawn_pid=$!
leader=""
for i in $(seq 1 100); do
  for child in $(cat "/proc/$nspawn_pid/task/$nspawn_pid/children" 2>/dev/null); do
    [ "$(cat "/proc/$child/comm" 2>/dev/null)" = systemd ] && leader=$child
  done
  [ -n "$leader" ] && break
  kill -0 "$nspawn_pid" 2>/dev/null || break
  sleep 0.1
done
[ -n "$leader" ] || { log "the container did not start:"; tail -n 30 "$work/console.log"; exit 1; }
enter=(nsenter -t "$leader" -m -u -i -n -p -C)
state=""
for i in $(seq 1 60); do
  state=$("${enter[@]}" systemctl is-system-running --wait 2>/dev/null) && break
  case "$state" in degraded|maintenance|stopping) break ;; esac
  sleep 0.5
done
if [ "$state" != running ]; then
  log "the container's systemd is '$state'"
  "${enter[@]}" systemctl --no-pager --failed || true
  [ "$state" = degraded ] || { tail -n 30 "$work/console.log"; exit 1; }
fi
timing boot "$t0"

# 5. the command, as a transient unit of the container's systemd. In the background, so that a
# signal to this script is handled at once (bash runs traps only between foreground commands).
"${enter[@]}" systemd-run --quiet --pipe --wait --collect --service-type=exec \
  --unit=labctl-ci-command --working-directory=/root/labctl \
  --setenv=HOME=/root --setenv=LANG=C.UTF-8 --setenv=TERM=dumb \
  --setenv=NODE_EXTRA_CA_CERTS=/mnt/labctl-ci/host-ca.crt --setenv=SSL_CERT_FILE=/mnt/labctl-ci/host-ca.crt \
  --setenv=npm_config_registry="$registry" "${ccache_env[@]}" \
  -- "$@" </dev/null &
command_pid=$!
set +e
wait "$command_pid"
status=$?
set -e
command_pid=""
refused=$(grep -c ' refused ' "$work/egress.log" || true)
log "command exited $status; egress: $(grep -c ' allowed ' "$work/egress.log" || true) connections allowed, $refused refused"
[ "$refused" -eq 0 ] || grep ' refused ' "$work/egress.log" | sort -u -k2 | head -n 20
exit "$status"
