# npm run test:pair (sourced by scripts/class/test.sh in pair mode, after the three containers
# booted): the write-up's own situation, two students' machines, each the other's backup MX, with
# no simulation and no Ansible. st14 and st18 are set up with the README's commands only (its
# first set-up command, then labctl configure), dns gets BIND with the records labctl dns prints
# on each. From st14, with nothing run on st18 during a drill:
#   - labctl verify on both, no failed check;
#   - labctl drill backup-mx with ETRN, 20 messages: 0 lost, 0 duplicated, st18's queue empty
#     afterwards (checked on st18 by this script);
#   - labctl drill backup-mx --wait-retry (4c): the partner's own retry delivers them;
#   - ETRN refused by a partner whose Exim does not allow it: a clear message, nothing stopped,
#     nothing lost;
#   - the drill killed with -9 while st14's daemon is down: the next labctl run starts it again;
#     SIGTERM: the drill starts it again itself;
#   - labctl drill wire between the two containers;
#   - --tls required on st18: 5a-backup-relay and relay-refused still test the relay rule;
#   - the DMARC case: st14 is built with DMARC and enforces it; the drill's mail comes from
#     postmaster@st14.sne24.ru (p=reject), passed on by st18 without a DKIM signature from
#     st18's address (SPF fails): it still arrives, because st14 exempts its own backup MX;
#   - both daemons running at the end.
# It ends with the counts of each drill and the wall time of each phase.
fail=0
pair_fail() { log "pair: $*"; fail=1; }
declare -a phase_lines=()
phase() { phase_lines+=("$(awk -v p="$1" -v a="$2" -v b="$(now)" 'BEGIN { printf "timing: %-28s %6.1f s", p, b - a }')"); timing "$1" "$2"; }
declare -a count_lines=()
labctl_on() { local m=$1; shift; on "$m" "cd /root/labctl && ./bin/labctl $*"; }
dom() { echo "$1.sne24.ru"; }
exim=/usr/exim/bin/exim
held_for() { on "$1" "/usr/exim/bin/exiqgrep -c -r '@$2\$' 2>/dev/null | grep -oE '^[0-9]+' || echo 0"; }
json_field() { node -e 'const j = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(String(process.argv[1].split(".").reduce((o, k) => o?.[k], j)))' "$1"; }

# 1. A clean copy of the commit on each student machine, as a student clones the repository.
for m in "${students[@]}"; do
  mkdir -p "$work/$m/root/labctl"
  git -C "$repo" archive --format=tar "$release_ref" | tar -C "$work/$m/root/labctl" -xf -
done
readme_cmd=$(awk '/^## Set-up/ { s = 1 } s && /^```sh/ { getline; print; exit }' "$repo/README.md" | sed -E 's/[[:space:]]+#.*$//')
[ -n "$readme_cmd" ] || { pair_fail "no set-up command in README.md"; return 1 2>/dev/null || exit 1; }
# DMARC for item 4's case: the full build where it is the default, else install's --with dmarc.
if grep -q -- '--without' "$repo/src/commands/install.ts"; then install_extra=""; else install_extra=" --with dmarc"; fi
log "pair: the README's first set-up command on ${students[*]}: $readme_cmd$install_extra"

# 2. BIND on dns, and the README's first command on both students, at once.
t0=$(now)
on dns 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends bind9 bind9-dnsutils' >"$work/pair-dns-apt.log" 2>&1 &
dns_job=$!
declare -A setup_job=()
for m in "${students[@]}"; do
  on "$m" "cd /root/labctl && $readme_cmd$install_extra" >"$work/pair-setup-$m.log" 2>&1 &
  setup_job[$m]=$!
done
wait "$dns_job" || { tail -n 20 "$work/pair-dns-apt.log"; pair_fail "dns: apt-get install bind9 failed"; }
for m in "${students[@]}"; do
  wait "${setup_job[$m]}" || { tail -n 30 "$work/pair-setup-$m.log"; pair_fail "$m: the README's first set-up command failed"; }
done
phase "set-up + install (both)" "$t0"
[ "$fail" -eq 0 ] || exit 1

# 3. configure, each the other's backup MX (the README's configure command with the partner's flags)
t0=$(now)
partner_of() { [ "$1" = "$primary" ] && echo "$backup" || echo "$primary"; }
model_flags() {
  local m=$1 p; p=$(partner_of "$1")
  echo "--domain $(dom "$m") --address ${address[$m]} --partner mail.$(dom "$p") --backup-for $(dom "$p"),mail.$(dom "$p"),${address[$p]}"
}
for m in "${students[@]}"; do
  labctl_on "$m" configure --yes $(model_flags "$m") >"$work/pair-configure-$m.log" 2>&1 || { tail -n 20 "$work/pair-configure-$m.log"; pair_fail "$m: labctl configure failed"; }
done
phase "configure (both)" "$t0"
[ "$fail" -eq 0 ] || exit 1

# 4. DNS: the records labctl dns prints on each machine, behind an SOA and NS, on the DNS server;
# the PTR records verify's ptr check asks for. Then both machines ask it.
t0=$(now)
zone_dir="$work/dns/var/lib/bind/labctl"
mkdir -p "$zone_dir"
: >"$work/dns/etc/bind/named.conf.labctl"
for m in "${students[@]}"; do
  d=$(dom "$m")
  labctl_on "$m" dns $(model_flags "$m") >"$work/pair-dns-$m.txt" || pair_fail "$m: labctl dns failed"
  { printf '$TTL 300\n@ IN SOA ns.%s. hostmaster.%s. ( 1 300 60 86400 300 )\n@ IN NS ns.%s.\nns.%s. IN A %s\n' "$d" "$d" "$d" "$d" "${address[dns]}"
    cat "$work/pair-dns-$m.txt"; } >"$zone_dir/$d.zone"
  printf 'zone "%s" { type master; file "/var/lib/bind/labctl/%s.zone"; };\n' "$d" "$d" >>"$work/dns/etc/bind/named.conf.labctl"
done
{ printf '$TTL 300\n@ IN SOA ns.sne24.ru. hostmaster.sne24.ru. ( 1 300 60 86400 300 )\n@ IN NS ns.%s.\n' "$(dom "$primary")"
  for m in "${students[@]}"; do printf '%s IN PTR mail.%s.\n' "${address[$m]##*.}" "$(dom "$m")"; done; } >"$zone_dir/0.77.10.in-addr.arpa.zone"
printf 'zone "0.77.10.in-addr.arpa" { type master; file "/var/lib/bind/labctl/0.77.10.in-addr.arpa.zone"; };\n' >>"$work/dns/etc/bind/named.conf.labctl"
# A third party's domain for the DMARC case: p=reject, no DKIM, and SPF that lists only the machine
# the drill sends from (st14 plays the third party's own server): SPF passes at the first hop, st18,
# and fails at the second, st14, where the mail arrives from st18's address.
outside=outside.sne24.ru
printf '$TTL 300\n@ IN SOA ns.%s. hostmaster.%s. ( 1 300 60 86400 300 )\n@ IN NS ns.%s.\nns IN A %s\n@ IN A %s\n@ IN MX 10 %s.\n@ IN TXT "v=spf1 ip4:%s -all"\n_dmarc IN TXT "v=DMARC1; p=reject; adkim=r; aspf=r"\n' \
  "$outside" "$outside" "$outside" "${address[dns]}" "${address[dns]}" "$outside" "${address[$primary]}" >"$zone_dir/$outside.zone"
printf 'zone "%s" { type master; file "/var/lib/bind/labctl/%s.zone"; };\n' "$outside" "$outside" >>"$work/dns/etc/bind/named.conf.labctl"
grep -q named.conf.labctl "$work/dns/etc/bind/named.conf.local" || echo 'include "/etc/bind/named.conf.labctl";' >>"$work/dns/etc/bind/named.conf.local"
on dns 'chown -R root:bind /var/lib/bind/labctl && for z in /var/lib/bind/labctl/*.zone; do n=$(basename "$z" .zone); named-checkzone -q "$n" "$z" || { echo "bad zone $n"; exit 1; }; done && named-checkconf && systemctl restart named' \
  || pair_fail "dns: the zones or named.conf do not load"
for m in "${students[@]}"; do echo "nameserver ${address[dns]}" >"$work/$m/etc/resolv.conf"; done
for m in "${students[@]}"; do
  mx=$(on "$m" "dig +short MX $(dom "$primary") | sort -n | tr '\n' ' '")
  log "pair: $m sees MX $(dom "$primary"): $mx"
  [ "$mx" = "10 mail.$(dom "$primary"). 20 mail.$(dom "$backup"). " ] || pair_fail "$m: MX records of $(dom "$primary") are '$mx'"
done
phase "dns" "$t0"

# 5. verify on both, from one side each: no failed check
verify_both() {
  local m status
  for m in "${students[@]}"; do
    set +e
    labctl_on "$m" verify --json >"$work/pair-verify-$m-$1.json" 2>"$work/pair-verify-$m-$1.err"
    status=$?
    set -e
    node -e '
      const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      console.log(`test.sh: pair: verify (${process.argv[3]}) on ${process.argv[2]}: ${r.passed} passed, ${r.failed} failed, ${r.warned} warned, ${r.skipped} skipped`);
      for (const c of r.checks) if (c.status === "fail") console.log(`  fail ${c.id}: ${c.summary}`);
      process.exit(r.failed === 0 ? 0 : 1);' "$work/pair-verify-$m-$1.json" "$m" "$1" || { cat "$work/pair-verify-$m-$1.err" | tail -n 5; pair_fail "verify on $m ($1) has failed checks (exit $status)"; }
  done
}
t0=$(now)
verify_both "after configure"
phase "verify (both)" "$t0"

# 6. 5c: the backup-MX drill with ETRN, 20 messages
drill_counts() { # LABEL FILE: one line of counts from the drill's --json
  [ -s "$2" ] || { echo "$1: no figures (the drill printed none)"; return 1; }
  node -e 'const f = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
    const held = f.heldPerMessage ?? [];
    console.log(`${process.argv[1]}: sent ${f.sent}, accepted by the partner ${f.heldOnBackup}, delivered ${f.delivered}, lost ${f.lost}, duplicated ${f.duplicates}, held ${held.length ? Math.min(...held) + "-" + Math.max(...held) : "?"} s, all in ${f.recoverySeconds} s after the return`);
    process.exit(f.sent === f.delivered && f.lost === 0 && f.duplicates === 0 ? 0 : 1);' "$1" "$2"
}
queue_empty_on_backup() { # waits up to 30 s for st18 to hold nothing for st14's domain
  local n i
  for i in $(seq 1 60); do n=$(held_for "$backup" "$(dom "$primary")"); [ "$n" = 0 ] && return 0; sleep 0.5; done
  log "pair: $backup still holds $n messages for $(dom "$primary")"; return 1
}
t0=$(now)
labctl_on "$primary" drill backup-mx --messages 20 --json >"$work/pair-drill-etrn.json" 2>"$work/pair-drill-etrn.err" || { tail -n 10 "$work/pair-drill-etrn.err"; pair_fail "drill backup-mx (ETRN) failed"; }
count_lines+=("$(drill_counts "backup-mx, ETRN (5c)" "$work/pair-drill-etrn.json")") || pair_fail "drill backup-mx (ETRN): not every message exactly once"
queue_empty_on_backup || pair_fail "after the ETRN drill $backup's queue is not empty"
phase "drill backup-mx, ETRN" "$t0"

# 7. 4c: the same, waiting for the partner's own retry
t0=$(now)
labctl_on "$primary" drill backup-mx --messages 5 --wait-retry --timeout 300 --json >"$work/pair-drill-retry.json" 2>"$work/pair-drill-retry.err" || { tail -n 10 "$work/pair-drill-retry.err"; pair_fail "drill backup-mx --wait-retry failed"; }
count_lines+=("$(drill_counts "backup-mx, the partner's retry (4c)" "$work/pair-drill-retry.json")") || pair_fail "drill backup-mx --wait-retry: not every message exactly once"
queue_empty_on_backup || pair_fail "after the retry drill $backup's queue is not empty"
phase "drill backup-mx, retry" "$t0"

# 8. a partner that does not allow ETRN (Exim's default without acl_smtp_etrn): one clear line, the
# daemon never stopped, nothing held, nothing lost. Then st18 is put back.
t0=$(now)
on "$backup" "cp -p /usr/exim/configure /root/configure.pair && sed -i '/^acl_smtp_etrn/d' /usr/exim/configure && $exim -bV >/dev/null && /root/labctl/bin/labctl service reload >/dev/null"
delivered_before=$(on "$primary" "grep -c '^Message-ID: <lab' /var/mail/exim-test || true")
set +e
labctl_on "$primary" drill backup-mx --messages 3 >"$work/pair-drill-noetrn.out" 2>&1
noetrn_status=$?
set -e
refusal=$(grep '^labctl:' "$work/pair-drill-noetrn.out" | head -n 1)
log "pair: ETRN not allowed: exit $noetrn_status: $refusal"
[ "$noetrn_status" -ne 0 ] || pair_fail "the drill passed although $backup refuses ETRN"
grep -q 'refuses ETRN' <<<"$refusal" && grep -q -- '--wait-retry' "$work/pair-drill-noetrn.out" || pair_fail "the refusal does not say that ETRN is refused and offer --wait-retry"
[ "$(on "$primary" 'systemctl is-active exim' || true)" = active ] || pair_fail "$primary's exim is not active after the refused ETRN"
queue_empty_on_backup || pair_fail "after the refused ETRN $backup holds mail for $(dom "$primary")"
[ "$(on "$primary" "grep -c '^Message-ID: <lab' /var/mail/exim-test || true")" = "$delivered_before" ] || pair_fail "the refused drill sent mail anyway"
count_lines+=("backup-mx, ETRN refused by the partner: exit $noetrn_status, 0 sent, 0 lost")
on "$backup" "mv /root/configure.pair /usr/exim/configure && /root/labctl/bin/labctl service reload >/dev/null"
phase "drill backup-mx, ETRN refused" "$t0"

# 9. the drill interrupted while st14's daemon is down: SIGTERM (the drill starts it again itself),
# then kill -9 (the next labctl run starts it again and says so). The messages the partner holds
# reach st14 by its retry: nothing lost.
interrupt_drill() { # SIGNAL
  local pid state i
  pid=$(on "$primary" "cd /root/labctl && { nohup ./bin/labctl drill backup-mx --messages 50 --wait-retry --timeout 600 >/tmp/drill-$1.log 2>&1 & echo \$!; }")
  for i in $(seq 1 200); do state=$(on "$primary" 'systemctl is-active exim' || true); [ "$state" = inactive ] && break; sleep 0.1; done
  [ "$state" = inactive ] || { pair_fail "$1: the drill did not stop $primary's daemon"; return; }
  on "$primary" "kill -$1 $pid"
  for i in $(seq 1 50); do on "$primary" "kill -0 $pid 2>/dev/null" || break; sleep 0.2; done
}
t0=$(now)
interrupt_drill TERM
state=$(on "$primary" 'systemctl is-active exim' || true)
log "pair: drill ended by SIGTERM: $primary's exim is $state"
[ "$state" = active ] || pair_fail "after SIGTERM the drill left $primary's exim $state"
interrupt_drill KILL
state=$(on "$primary" 'systemctl is-active exim' || true)
next=$(labctl_on "$primary" service status 2>&1 || true)
state_after=$(on "$primary" 'systemctl is-active exim' || true)
log "pair: drill killed with -9: exim was $state; the next labctl run said: $(grep -m1 'started it again' <<<"$next")"
[ "$state" = inactive ] && [ "$state_after" = active ] && grep -q 'started it again' <<<"$next" || pair_fail "after kill -9 the next labctl run did not start $primary's exim again ($state -> $state_after)"
# What st18 accepted during the two interrupted drills arrives by its retry.
for i in $(seq 1 180); do [ "$(held_for "$backup" "$(dom "$primary")")" = 0 ] && break; sleep 1; done
queue_empty_on_backup || pair_fail "the interrupted drills' mail is still on $backup"
count_lines+=("backup-mx interrupted: SIGTERM -> exim $([ "$(on "$primary" 'systemctl is-active exim')" = active ] && echo active), kill -9 -> exim started by the next labctl run; $backup's queue empty after its retry")
phase "drill interrupted (TERM, KILL)" "$t0"

# 10. 7c on the wire between the two machines
t0=$(now)
labctl_on "$primary" drill wire --json >"$work/pair-wire.json" 2>"$work/pair-wire.err" || { tail -n 10 "$work/pair-wire.err"; pair_fail "drill wire failed"; }
wire=$(node -e 'const w = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`wire: STARTTLS marker ${w.tls.markerFound ? "FOUND" : "not found"} (${w.tls.tlsVersion}), SMTPS marker ${w.smtps.markerFound ? "FOUND" : "not found"} (TLS from the first byte: ${w.smtps.tlsFromFirstByte}), control marker ${w.plain.markerFound ? "found in the clear" : "NOT found"} (${w.control})`);
  process.exit(w.tls.ok && w.smtps.ok && w.plain.ok ? 0 : 1)' "$work/pair-wire.json") || pair_fail "drill wire: the capture does not prove it"
count_lines+=("$wire")
phase "drill wire" "$t0"

# 11. the DMARC case: st14 built with DMARC and enforcing it (configure's default). A third party's
# mail (From someone@outside.sne24.ru: p=reject, no DKIM, SPF passing only from its own server)
# goes to st18 while st14 is down (SPF and DMARC pass there) and reaches st14 from st18's address,
# where SPF fails and so DMARC does: st14 exempts its own backup MX from SPF and DMARC refusals, so
# it arrives, with the results recorded in its headers, instead of being refused and bounced.
# (--wait-retry: the case depends on nothing but the two configurations, not on ETRN.)
t0=$(now)
on "$primary" "$exim -bV | grep -qw DMARC" || pair_fail "$primary's Exim is not built with DMARC"
on "$primary" "grep -qE 'dmarc_status += reject$' /usr/exim/configure" || pair_fail "$primary does not enforce DMARC (no deny dmarc_status = reject)"
labctl_on "$primary" drill backup-mx --messages 3 --wait-retry --timeout 180 --from "someone@$outside" --json >"$work/pair-drill-dmarc.json" 2>"$work/pair-drill-dmarc.err" || { tail -n 10 "$work/pair-drill-dmarc.err"; pair_fail "drill backup-mx with a p=reject third party's mail failed"; }
count_lines+=("$(drill_counts "backup-mx, a p=reject sender without DKIM (DMARC enforced)" "$work/pair-drill-dmarc.json")") || pair_fail "the p=reject mail through the backup did not all arrive"
run_id=$(json_field runId <"$work/pair-drill-dmarc.json" 2>/dev/null || true)
cat >"$share/auth-results.cjs" <<'JS'
// The Authentication-Results: header of the first message in a mailbox whose Message-ID starts with <RUNID-.
const [file, runId] = process.argv.slice(2);
for (const m of require('fs').readFileSync(file, 'utf8').split(/^From /m)) {
  if (!m.includes(`<${runId}-`)) continue;
  const line = m.split(/\n\n/)[0].replace(/\n[ \t]+/g, ' ').split('\n').find((l) => /^authentication-results:/i.test(l));
  if (line) { console.log(line); break; }
}
JS
ar=$(on "$primary" "node /mnt/labctl-ci/auth-results.cjs /var/mail/exim-test '$run_id'")
log "pair: DMARC on $primary: a drill message's $ar"
grep -qi 'dmarc=fail' <<<"$ar" || pair_fail "the third party's message on $primary does not show dmarc=fail recorded"
queue_empty_on_backup || pair_fail "after the DMARC case $backup still holds mail"
phase "dmarc case" "$t0"

# 11b. --tls required on the backup: 5a-backup-relay and relay-refused still test the relay rule
# (over STARTTLS from a non-relay address; exim -bh cannot start TLS). Then the control: with the
# relay rule cut out of st18's file, relay-refused must fail. Then st18 is put back.
t0=$(now)
only_status() { # HOST CHECK: the check's status from verify --json --only
  labctl_on "$1" verify --json --no-store --only "$2" 2>/dev/null | node -e 'const r = JSON.parse(require("fs").readFileSync(0, "utf8")); const c = r.checks.find((x) => x.id === process.argv[1]); console.log(`${c?.status ?? "missing"}: ${c?.summary ?? ""}`)' "$2"
}
labctl_on "$backup" configure --yes $(model_flags "$backup") --tls required >"$work/pair-required.log" 2>&1 || { tail -n 10 "$work/pair-required.log"; pair_fail "$backup: configure --tls required failed"; }
for c in 5a-backup-relay relay-refused; do
  line=$(only_status "$backup" "$c" || true)
  log "pair: $backup in --tls required: $c $line"
  case "$line" in pass:*) ;; *) pair_fail "$backup in --tls required: $c does not pass ($line)" ;; esac
done
if on "$backup" "cp -p /usr/exim/configure /root/configure.relay && sed -i '/require message = relay not permitted/,+1d' /usr/exim/configure && $exim -bV >/dev/null && /root/labctl/bin/labctl service reload >/dev/null" >"$work/pair-relay-cut.log" 2>&1; then
  line=$(only_status "$backup" relay-refused || true)
  log "pair: $backup relaying for anyone (control): relay-refused $line"
  case "$line" in fail:*) ;; *) pair_fail "with the relay rule cut out, relay-refused did not fail ($line)" ;; esac
else
  tail -n 10 "$work/pair-relay-cut.log"; pair_fail "$backup: could not cut the relay rule out for the control"
fi
on "$backup" "[ ! -e /root/configure.relay ] || mv /root/configure.relay /usr/exim/configure; /root/labctl/bin/labctl service reload >/dev/null" || pair_fail "$backup: could not put the relay rule back"
labctl_on "$backup" configure --yes $(model_flags "$backup") >"$work/pair-back.log" 2>&1 || { tail -n 10 "$work/pair-back.log"; pair_fail "$backup: configure back to the default TLS mode failed"; }
count_lines+=("--tls required on $backup: 5a-backup-relay and relay-refused pass over STARTTLS; relay-refused fails with the relay rule cut out")
phase "tls required on the backup" "$t0"

# 12. verify again on both, and both daemons running
t0=$(now)
verify_both "after the drills"
for m in "${students[@]}"; do
  [ "$(on "$m" 'systemctl is-active exim' || true)" = active ] || pair_fail "$m: exim is not active at the end"
done
phase "verify again (both)" "$t0"

log "pair: counts"
printf '  %s\n' "${count_lines[@]}"
log "pair: wall time per phase"
printf '  %s\n' "${phase_lines[@]}"
if [ "$fail" -eq 0 ]; then log "pair: passed: README set-up on two machines, verify on both, backup-mx with ETRN (20), with the partner's retry, with ETRN refused, interrupted (TERM, KILL), wire, DMARC through the backup"; else log "pair: FAILED"; fi
