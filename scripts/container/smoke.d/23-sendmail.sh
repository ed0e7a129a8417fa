# The sendmail interface (labctl install): /usr/sbin/sendmail is labctl's Exim, and apt knows an
# MTA is installed, so bsd-mailx and cron come without a second Exim, and mail from both (mailx,
# a cron job's MAILTO) is delivered to the user's mailbox through /usr/sbin/sendmail.
[ "$(readlink -f /usr/sbin/sendmail)" = "$(readlink -f /usr/exim/bin/exim)" ] || fail "/usr/sbin/sendmail is '$(readlink -f /usr/sbin/sendmail || true)', not labctl's Exim"
plan=$(apt-get install -s -q --no-install-recommends bsd-mailx cron) || fail "apt-get install -s bsd-mailx cron failed: $plan"
echo "$plan" | grep -q '^Inst bsd-mailx ' || fail "apt-get install -s plans no bsd-mailx: $plan"
mtas=$(echo "$plan" | grep -E '^Inst (exim4|postfix|nullmailer|sendmail|opensmtpd|msmtp-mta|dma|courier-mta)' || true)
[ -z "$mtas" ] || fail "apt-get install -s bsd-mailx plans another MTA: $mtas"
ok "apt-get install -s bsd-mailx cron plans no MTA ($(dpkg-query -W -f '${Package} ${Version} provides ${Provides}' labctl-exim)); /usr/sbin/sendmail -> $(readlink /usr/sbin/sendmail)"
apt-get install -y -q --no-install-recommends bsd-mailx cron >/dev/null
marker="smoke-mailx-$$"
echo "$marker" | mail -s "smoke mailx $$" "$USER_BOX" || fail "mail -s ... $USER_BOX exited $?"
wait_until 30 grep -q "$marker" "/var/mail/$USER_BOX" || fail "mail(1) through /usr/sbin/sendmail: $marker did not reach /var/mail/$USER_BOX"
ok "bsd-mailx: echo $marker | mail -s ... $USER_BOX delivered to /var/mail/$USER_BOX"
marker="smoke-cron-$$"
wait_until 10 bash -c '[ "$(systemctl is-active cron)" = active ]' || fail "cron.service is $(systemctl is-active cron || true)"
# Debian 12's cron requires pam_loginuid, which cannot set the login uid inside this container
# (no audit capability), so cron would refuse to run any job here; on a real machine it can.
# Made optional for the container only; the mail path under test is cron -> /usr/sbin/sendmail.
if grep -qE '^session\s+required\s+pam_loginuid\.so' /etc/pam.d/cron; then
  sed -i -E 's/^session(\s+)required(\s+)pam_loginuid\.so/session\1optional\2pam_loginuid.so/' /etc/pam.d/cron
  echo "  (container: /etc/pam.d/cron's pam_loginuid made optional)"
fi
printf 'MAILTO=%s\n* * * * * root echo %s\n' "$USER_BOX" "$marker" >/etc/cron.d/labctl-smoke
# cron notices a new file in /etc/cron.d by the directory's mtime, in whole seconds, once a minute:
# a file written in the same second as cron's last look (cron was started by apt a moment ago) is
# never seen. A restart reads /etc/cron.d afresh, so the job runs at the next minute either way.
systemctl restart cron
wait_until 130 grep -q "$marker" "/var/mail/$USER_BOX" ||
  { journalctl -u cron --no-pager | tail -n 15; tail -n 5 /var/spool/exim/log/mainlog; fail "cron's MAILTO=$USER_BOX: the job's output $marker did not reach /var/mail/$USER_BOX"; }
rm -f /etc/cron.d/labctl-smoke
ok "cron: a job's output with MAILTO=$USER_BOX delivered to /var/mail/$USER_BOX ($(grep -m1 '^Subject: Cron' "/var/mail/$USER_BOX"))"
labctl verify --only sendmail-link >"$work/sendmail-verify.txt" || { cat "$work/sendmail-verify.txt"; fail "labctl verify --only sendmail-link failed"; }
ok "labctl verify: $(grep sendmail-link "$work/sendmail-verify.txt" | sed 's/^ *//')"
