# shellcheck shell=bash
# Sourced by scripts/container/smoke.sh (see README.md here): the queue, the panic log and
# authenticated submission, on the daemon systemd runs.
#   1. a message held for a destination that refuses (an address in a namespace of its own with
#      nothing listening, named held.test's MX by dnsmasq): labctl queue lists it with its retry
#      time and last failure, labctl queue why explains it; once a sink listens there,
#      labctl queue flush --domain held.test delivers it;
#   2. paniclog-empty: passes, fails after a real panic (exim on a broken -C file), passes again;
#   3. submission with swaks --auth: AUTH only after STARTTLS, a wrong password refused, the right
#      one relays, no relay without a login; verify's submission checks pass.

# --- 1. labctl queue on a message held by a stopped destination ----------------------------------
ip netns add smoke-held
ip link add smoke-held type veth peer name eth0 netns smoke-held
ip addr add 192.0.2.1/24 dev smoke-held 2>/dev/null || true
ip link set smoke-held up
ip -n smoke-held addr add 192.0.2.26/24 dev eth0 && ip -n smoke-held link set eth0 up && ip -n smoke-held link set lo up
dnsmasq --no-resolv --no-hosts --listen-address=127.0.0.53 --bind-interfaces --pid-file="$work/dnsmasq-held.pid" \
  --mx-host=held.test,mx.held.test,10 --host-record=mx.held.test,192.0.2.26
cp /etc/resolv.conf "$work/resolv-held.conf"
echo "nameserver 127.0.0.53" >/etc/resolv.conf
held_cleanup() {
  cp "$work/resolv-held.conf" /etc/resolv.conf
  kill "$(cat "$work/dnsmasq-held.pid")" "${held_sink:-}" 2>/dev/null || true
  ip netns del smoke-held 2>/dev/null || true
}
msgid="smoke-held-$$@$DOMAIN"
node scripts/container/smtp.mjs send 127.0.0.1 25 "$USER_BOX@$DOMAIN" "someone@held.test" "$msgid" >"$work/held.txt" ||
  { cat "$work/held.txt"; held_cleanup; fail "the daemon did not accept a message for held.test"; }
held_deferred() { grep -q '== someone@held.test .*Connection refused' /var/spool/exim/log/mainlog; }
wait_until 20 held_deferred || { tail -n 5 /var/spool/exim/log/mainlog; held_cleanup; fail "no deferred delivery to held.test in the main log"; }
labctl queue --json >"$work/queue.json" || { held_cleanup; fail "labctl queue --json failed"; }
held_id=$(node -e '
const q = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const m = q.messages.find((x) => x.recipients.some((r) => r.address === "someone@held.test"));
if (!m || !m.retry.nextTry || !/Connection refused/.test(m.lastFailure || "") || !m.retry.rule) { console.error(JSON.stringify(m)); process.exit(1); }
console.log(m.id);' "$work/queue.json") || { held_cleanup; fail "labctl queue: no held message with a next retry time, a rule and 'Connection refused'"; }
why=$(labctl queue why "$held_id") || { held_cleanup; fail "labctl queue why $held_id failed"; }
case "$why" in *"Connection refused"*"retry rule"*"not to be tried before"*"labctl queue flush"*) ;; *) echo "$why"; held_cleanup; fail "labctl queue why does not explain the held message" ;; esac
ok "labctl queue why $held_id: ${why:0:160}..."
set +e
labctl queue why 1xZZZZ-000000000XX-ZZZZ >/dev/null 2>"$work/badid.txt"; bad_status=$?
set -e
[ "$bad_status" -eq 2 ] || { held_cleanup; fail "labctl queue why on an unknown id exited $bad_status, not 2"; }
ip netns exec smoke-held node scripts/container/smtp.mjs sink 192.0.2.26 25 "$work/held.eml" >"$work/held-sink.log" 2>&1 &
held_sink=$!
wait_until 10 grep -q listening "$work/held-sink.log" || { held_cleanup; fail "the sink for held.test did not start"; }
labctl queue flush --domain held.test || { held_cleanup; fail "labctl queue flush --domain held.test failed"; }
# The daemon's own queue run may hold the message when -Rff reaches it (it skips a locked one and
# exits 0): wait for the sink to have it rather than look once.
wait_until 20 grep -q "$msgid" "$work/held.eml" || { held_cleanup; fail "the flushed message did not reach the sink"; }
held_cleanup
ok "labctl queue flush --domain held.test (exim -Rff): delivered once the destination listened"

# --- 2. paniclog-empty ------------------------------------------------------------------------------
panic_status() { labctl verify --only paniclog-empty --json --no-store | node -e 'let s="";process.stdin.on("data",(d)=>s+=d).on("end",()=>{const c=JSON.parse(s).checks[0];console.log(`${c.status} ${c.summary}`)})'; }
first=$(panic_status || true)
case "$first" in pass*) ;; *) fail "paniclog-empty before the panic: $first" ;; esac
printf 'no_such_option_here = 1\n' >"$work/broken.conf"
# -bP reads the configuration and logs its error to the panic log (-bV only prints it).
/usr/exim/bin/exim -C "$work/broken.conf" -bP spool_directory >/dev/null 2>&1 && fail "exim accepted a broken configuration"
grep -q no_such_option_here /var/spool/exim/log/paniclog || fail "exim -C broken.conf wrote nothing to the panic log"
panicked=$(panic_status || true)
case "$panicked" in fail*"configuration error in line 1"*) ;; *) fail "paniclog-empty after a real panic: $panicked" ;; esac
: >/var/spool/exim/log/paniclog
again=$(panic_status || true)
case "$again" in pass*) ;; *) fail "paniclog-empty after emptying the file: $again" ;; esac
ok "paniclog-empty: pass, then '${panicked:0:120}...', then pass once emptied"

# --- 3. submission with swaks --auth ----------------------------------------------------------------
printf 'smoke-Pass-2026\n' >"$work/pw"
labctl user add smoke-user --password-file "$work/pw" || fail "labctl user add failed"
sub() { swaks --server 127.0.0.1 --timeout 10 --from "$USER_BOX@$DOMAIN" --to someone@relay-test.example "$@" >"$work/swaks.txt" 2>&1; }
set +e
sub --port 587 --quit-after EHLO; plain_auth=$(grep -c 'AUTH' "$work/swaks.txt")
sub --port 587 --tls --auth PLAIN --auth-user smoke-user --auth-password wrong-password --quit-after AUTH; wrong=$?
sub --port 587 --tls --auth PLAIN --auth-user smoke-user --auth-password smoke-Pass-2026 --quit-after RCPT; right=$?
sub --port 465 --tls-on-connect --auth LOGIN --auth-user smoke-user --auth-password smoke-Pass-2026 --quit-after RCPT; right465=$?
sub --port 587 --tls --quit-after RCPT; noauth=$?
set -e
[ "$plain_auth" -eq 0 ] || fail "AUTH offered on 587 before STARTTLS"
[ "$wrong" -eq 28 ] || fail "a wrong password: swaks exited $wrong, not 28 (AUTH failed)"
[ "$right" -eq 0 ] && [ "$right465" -eq 0 ] || fail "the right password did not relay (587: $right, 465: $right465)"
[ "$noauth" -eq 24 ] && grep -q 'needs a login' "$work/swaks.txt" || { cat "$work/swaks.txt"; fail "relaying on 587 without a login was not refused for want of a login"; }
labctl verify --only submission-auth-tls,submission-login,submission-relay-refused --json --no-store >"$work/sub.json" ||
  { cat "$work/sub.json"; fail "verify's submission checks did not pass"; }
labctl user remove smoke-user >/dev/null
ok "submission: no AUTH before TLS on 587; wrong password 535; PLAIN on 587 and LOGIN on 465 relay; no login, no relay; verify's three submission checks pass"
