# The unit's sandbox (templates/exim.service.ejs), seen from inside the daemon's own mount
# namespace: the spool, /var/mail, the home directories and /var/log/exim writable, the rest of the system
# (/usr/exim, /etc, /root) read-only; systemd-analyze security's figure for the running unit; and
# mail still delivered after a restart under it (the reload and restart checks come in d and e).
pid=$(main_pid)
[ "$pid" -gt 0 ] || fail "exim.service has no MainPID"
mkdir -p /var/log/exim /home/"$USER_BOX"
systemctl restart exim
wait_until 10 greets || fail "nothing greets after systemctl restart with /var/log/exim present"
pid=$(main_pid)
in_unit() { nsenter -t "$pid" -m -- "$@"; }
writable() { in_unit sh -c "f=\$1/.labctl-smoke-\$\$; : >\"\$f\" && rm -f \"\$f\"" sh "$1" 2>/dev/null; }
for d in /var/spool/exim /var/mail /home/"$USER_BOX" /var/log/exim; do
  writable "$d" || fail "$d is not writable inside exim.service's mount namespace"
done
for d in /usr/exim /usr/exim/bin /etc /root /var/lib/labctl /boot; do
  [ -d "$d" ] || continue
  ! writable "$d" || fail "$d is writable inside exim.service's mount namespace (ProtectSystem=strict)"
done
ok "inside exim.service: spool, /var/mail, /home/$USER_BOX and /var/log/exim writable; /usr/exim, /etc, /root and /var/lib/labctl read-only"
bounding=$(awk '/^CapBnd:/ { print $2 }' "/proc/$pid/status")
[ "$bounding" != 000001ffffffffff ] && [ "$bounding" != 0000003fffffffff ] || fail "exim's capability bounding set is the full set ($bounding)"
ok "exim's capability bounding set is $bounding, not the full set"
exposure=$(systemd-analyze security exim 2>/dev/null | sed -n 's/^→ Overall exposure level for exim.service: //p')
[ -n "$exposure" ] || fail "systemd-analyze security exim printed no overall exposure"
awk -v e="${exposure%% *}" 'BEGIN { exit !(e < 6.0) }' || fail "systemd-analyze security exim: $exposure (expected under 6.0)"
ok "systemd-analyze security exim (running unit): $exposure"
msgid="smoke-hardened-$$@$DOMAIN"
node scripts/container/smtp.mjs send 127.0.0.1 25 "root@$DOMAIN" "$USER_BOX@$DOMAIN" "$msgid" >"$work/hardened.txt" ||
  { cat "$work/hardened.txt"; fail "the restarted daemon did not accept a local message"; }
wait_until 15 grep -q "$msgid" "/var/mail/$USER_BOX" || fail "after the restart, the message did not reach /var/mail/$USER_BOX"
ok "after systemctl restart under the hardened unit: $msgid delivered to /var/mail/$USER_BOX"
