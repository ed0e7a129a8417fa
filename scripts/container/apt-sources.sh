#!/usr/bin/env bash
# Prints the machine's own enabled Debian binary archive entries, one "URI SUITE" per line, from
# /etc/apt/sources.list and /etc/apt/sources.list.d/*.list and *.sources (one-line and deb822
# formats). rootfs.sh builds the container from them and run.sh lets the container reach their
# hosts: the archive's address is derived here on every run and never written into the repository.
# APT_ETC overrides /etc/apt (tests).
set -euo pipefail
etc=${APT_ETC:-/etc/apt}
shopt -s nullglob
{
for f in "$etc/sources.list" "$etc"/sources.list.d/*.list; do
  [ -f "$f" ] || continue
  # deb [options] URI SUITE COMPONENT...
  sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" | awk '$1 == "deb" && NF >= 3 { print $2, $3 }'
done
for f in "$etc"/sources.list.d/*.sources; do
  # deb822 paragraphs: Types, URIs, Suites, Enabled.
  awk '
    function flush() {
      if (types ~ /(^| )deb( |$)/ && enabled != "no")
        for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++) print u[i], s[j]
      types = ""; enabled = ""; nu = 0; ns = 0
    }
    /^[[:space:]]*#/ { next }
    /^[[:space:]]*$/ { flush(); next }
    tolower($1) == "types:"   { types = ""; for (i = 2; i <= NF; i++) types = types " " $i; types = types " " }
    tolower($1) == "uris:"    { nu = 0; for (i = 2; i <= NF; i++) u[++nu] = $i }
    tolower($1) == "suites:"  { ns = 0; for (i = 2; i <= NF; i++) s[++ns] = $i }
    tolower($1) == "enabled:" { enabled = tolower($2) }
    END { flush() }
  ' "$f"
done
} | sort -u
