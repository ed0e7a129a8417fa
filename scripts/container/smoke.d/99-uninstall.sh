# labctl uninstall, after every other check: the plan changes nothing; a package that needs a
# mail-transport-agent (bsd-mailx) makes it stop before it changes anything, the daemon still
# running; then it removes the unit (stopped, disabled, gone from systemd), the labctl-exim
# package (and with it the sendmail links, and apt's MTA), the programs and install.json, and keeps
# the configuration, the spool with a queued message, and says so; a second run changes nothing.
# Then labctl install finds no labctl Exim, installs it again (the release from the kept cache),
# and the kept message is delivered: no mail was lost.
bin=/usr/exim/bin
spool=/var/spool/exim
queued_files() { find "$spool/input" -name '*-H' | wc -l; }
mta_planned() { apt-get install -s -q bsd-mailx 2>/dev/null | grep -E '^Inst (exim4-daemon|postfix|sendmail-bin|opensmtpd|nullmailer|dma|msmtp-mta|courier-mta|ssmtp)' | head -n 1; }

# A message that stays in the queue: queued without delivery and frozen, so no queue run takes it.
# The daemon was just started, and its first queue run may deliver a message queued at that
# moment: queue one again (up to 5 times, 2 s apart) until it is still there to freeze.
kept_id=
for _ in 1 2 3 4 5; do
  printf 'Subject: kept by uninstall\n\nqueued before labctl uninstall\n' | "$bin/exim" -odq "$USER_BOX@$DOMAIN"
  kept_id=$("$bin/exiqgrep" -i -r "^$USER_BOX@$DOMAIN\$" | tail -n 1)
  [ -n "$kept_id" ] && "$bin/exim" -Mf "$kept_id" >/dev/null 2>&1 && [ -n "$("$bin/exiqgrep" -i -z -r "^$USER_BOX@$DOMAIN\$")" ] && break
  kept_id=
  sleep 2
done
[ -n "$kept_id" ] || fail "no queued message for $USER_BOX@$DOMAIN to keep (each was delivered before it could be frozen)"

# The plan: every step would run, and nothing changes.
labctl uninstall --dry-run --json >"$work/uninstall-plan.json" || fail "labctl uninstall --dry-run exited non-zero"
node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); for (const s of r.steps) console.log(`  ${s.status.padEnd(8)} ${s.id.padEnd(12)} ${s.detail}`); process.exit(r.dryRun && r.steps.length === 3 && r.steps.every((s) => s.status === "changed") ? 0 : 1)' "$work/uninstall-plan.json" ||
  fail "labctl uninstall --dry-run does not plan all three steps"
[ "$(systemctl is-active exim)" = active ] && greets && [ -e /usr/sbin/sendmail ] && [ -x "$bin/exim" ] || fail "labctl uninstall --dry-run changed something"
ok "labctl uninstall --dry-run: plans the three steps, changes nothing (exim.service active, sendmail and $bin/exim there)"

# Refused before any change while another package needs the MTA.
[ -z "$(mta_planned)" ] || fail "before uninstall, apt-get install -s bsd-mailx already plans an MTA: $(mta_planned)"
apt-get install -y -q --no-install-recommends bsd-mailx >/dev/null || fail "apt-get install bsd-mailx failed"
set +e
labctl uninstall >"$work/uninstall-refused.log" 2>&1; refused=$?
set -e
grep -q 'bsd-mailx' "$work/uninstall-refused.log" && [ "$refused" -eq 3 ] || { cat "$work/uninstall-refused.log"; fail "labctl uninstall with bsd-mailx installed: exit $refused, expected 3 naming bsd-mailx"; }
[ "$(systemctl is-active exim)" = active ] && dpkg -s labctl-exim >/dev/null 2>&1 && [ -x "$bin/exim" ] || fail "the refused labctl uninstall changed something"
ok "labctl uninstall with bsd-mailx installed: exit 3 before any change ($(head -n 1 "$work/uninstall-refused.log" | sed 's/^labctl: //'))"
apt-get remove -y -q bsd-mailx >/dev/null

# The run.
labctl uninstall | tee "$work/uninstall.log" || fail "labctl uninstall exited non-zero"
[ ! -e /etc/systemd/system/exim.service ] || fail "the unit file is still there"
[ "$(systemctl show -p LoadState --value exim)" = not-found ] || fail "systemd still has exim.service: $(systemctl show -p LoadState --value exim)"
! systemctl is-active -q exim || fail "exim.service is still active"
[ -z "$(ss -H -ltn 'sport = :25')" ] || fail "something still listens on port 25: $(ss -H -ltnp 'sport = :25')"
ok "the daemon stopped, exim.service disabled and unknown to systemd (LoadState not-found), nothing listens on port 25"
! dpkg -s labctl-exim >/dev/null 2>&1 || fail "dpkg -s labctl-exim: still installed"
[ ! -e /usr/sbin/sendmail ] && [ ! -L /usr/sbin/sendmail ] && [ ! -e /usr/lib/sendmail ] && [ ! -L /usr/lib/sendmail ] || fail "a sendmail link is still there: $(ls -l /usr/sbin/sendmail /usr/lib/sendmail 2>&1)"
planned=$(mta_planned)
[ -n "$planned" ] || fail "apt-get install -s bsd-mailx plans no MTA after uninstall: apt was not told"
ok "labctl-exim removed (dpkg -s: not installed), /usr/sbin/sendmail and /usr/lib/sendmail gone, apt-get install -s bsd-mailx plans an MTA again: $planned"
[ ! -e "$bin" ] && [ ! -e /var/lib/labctl/install.json ] || fail "programs or install.json left: $(ls "$bin" 2>&1 | head -n 3) $(ls /var/lib/labctl/install.json 2>&1)"
[ -s /usr/exim/configure ] && [ -d "$spool/log" ] && [ -n "$(find "$spool/input" -name "$kept_id-H")" ] || fail "the configuration, the spool's logs or the queued message $kept_id are gone"
n=$(queued_files)
grep -q "/usr/exim/configure" "$work/uninstall.log" && grep -q "$spool (logs, and $n queued message" "$work/uninstall.log" && grep -q "exim -Mt ID thaws a frozen one" "$work/uninstall.log" || fail "labctl uninstall does not say it keeps /usr/exim/configure and $spool with its $n queued messages"
ok "kept and said so: /usr/exim/configure, $spool (logs, $n queued, $kept_id among them), $(grep -c '^  ' "$work/uninstall.log") kept paths listed"

# Again: nothing to do.
labctl uninstall --json >"$work/uninstall-again.json" || fail "the second labctl uninstall exited non-zero"
node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); for (const s of r.steps) console.log(`  ${s.status.padEnd(8)} ${s.id.padEnd(12)} ${s.detail}`); process.exit(r.ok && !r.changed && r.steps.length === 3 && r.steps.every((s) => s.status === "ok") ? 0 : 1)' "$work/uninstall-again.json" ||
  fail "the second labctl uninstall was not all already done"
again=$(labctl uninstall | tail -n 1)
[ "$again" = "Nothing to do: labctl's Exim is not installed." ] || fail "a third labctl uninstall says '$again'"
ok "labctl uninstall again: every step already done, nothing changed ('$again')"

# Installed again: install sees no labctl Exim (it installs, not "Nothing to do"), and the kept mail is delivered.
t_re=$(now)
labctl install --yes >"$work/reinstall.log" 2>&1 || { tail -n 20 "$work/reinstall.log"; fail "labctl install after labctl uninstall failed"; }
last=$(tail -n 1 "$work/reinstall.log")
case "$last" in "Exim "*" is installed and running.") ;; *) tail -n 20 "$work/reinstall.log"; fail "labctl install after uninstall ends with '$last'" ;; esac
reinstall_s=$(awk -v a="$t_re" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
[ "$(systemctl is-active exim)" = active ] && wait_until 10 greets || fail "after the reinstall exim.service is $(systemctl is-active exim || true) or nothing greets"
[ "$(readlink /usr/sbin/sendmail)" = "$bin/exim" ] && dpkg -s labctl-exim >/dev/null 2>&1 || fail "after the reinstall the sendmail link or labctl-exim is missing"
"$bin/exim" -Mt "$kept_id" >/dev/null
"$bin/exim" -M "$kept_id"
# By its own Message-Id (Exim's <E$kept_id@...>): a copy an earlier queue run delivered has the same body.
wait_until 15 grep -qF "<E$kept_id@" "/var/mail/$USER_BOX" || fail "the message kept through uninstall ($kept_id) was not delivered after the reinstall"
grep -E '^(make|make install|source|signature) ' "$work/reinstall.log" | sed 's/^/  /'
ok "labctl install after uninstall: '$last' in $reinstall_s s, exim.service active, sendmail linked; the kept message $kept_id thawed and delivered to /var/mail/$USER_BOX"
