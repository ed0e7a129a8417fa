# Set-up starts nothing the user did not ask for: the daemons that labctl's apt packages bring
# along (BIND's named, unbound, nginx) are neither running nor enabled after scripts/setup.sh, so a
# reboot starts no resolver or web server on the student's machine; labctl lab starts its own
# inside its namespaces. The smoke run's set-up is the README's first command (without --tests).
for svc in named unbound nginx; do
  enabled=$(systemctl is-enabled "$svc" 2>&1 || true)
  active=$(systemctl is-active "$svc" 2>&1 || true)
  [ "$enabled" = disabled ] && [ "$active" = inactive ] ||
    fail "after scripts/setup.sh, $svc.service is $enabled and $active (expected disabled and inactive): $(ls /etc/systemd/system/multi-user.target.wants/ | tr '\n' ' ')"
  ok "after scripts/setup.sh, $svc.service is $enabled and $active"
done
