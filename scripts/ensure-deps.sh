#!/usr/bin/env bash
# Makes sure the system tools the tests use are present:
#   - OpenSSH sshd (/usr/sbin/sshd) for the SFTP integration tests,
#   - the OpenSSH client tools sftp and ssh-keygen,
#   - Debian's Chromium (/usr/bin/chromium), which playwright-core drives by
#     executablePath; no tool may download a browser of its own,
#   - Debian's Prometheus (/usr/bin/prometheus and /usr/bin/promtool) for the
#     exporter's integration test and the alert rules' unit tests; the package
#     installs a prometheus.service, which the tests never start,
#   - systemd-analyze, which checks the exporter's unit file.
# Installs what is missing with apt-get when running as root, otherwise stops
# and says what to install. Prints nothing when everything is present.
set -euo pipefail

missing_packages=()
add_missing() {
  local package="$1" existing
  for existing in "${missing_packages[@]+"${missing_packages[@]}"}"; do
    [[ "$existing" == "$package" ]] && return 0
  done
  missing_packages+=("$package")
}

check_all() {
  missing_packages=()
  [[ -x /usr/sbin/sshd ]] || add_missing openssh-server
  command -v sftp >/dev/null 2>&1 || add_missing openssh-client
  command -v ssh-keygen >/dev/null 2>&1 || add_missing openssh-client
  [[ -x /usr/bin/chromium ]] || add_missing chromium
  [[ -x /usr/bin/prometheus ]] || add_missing prometheus
  [[ -x /usr/bin/promtool ]] || add_missing prometheus
  command -v systemd-analyze >/dev/null 2>&1 || add_missing systemd
}

check_all
if [[ ${#missing_packages[@]} -eq 0 ]]; then
  exit 0
fi

if [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-deps: missing Debian package(s): ${missing_packages[*]}" >&2
  echo "ensure-deps: install them as root with: apt-get update && apt-get install -y ${missing_packages[*]}" >&2
  exit 1
fi

echo "ensure-deps: installing ${missing_packages[*]} with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
apt_log="$(mktemp)"
trap 'rm -f "$apt_log"' EXIT
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing_packages[@]}"; } </dev/null >"$apt_log" 2>&1; then
  tail -n 40 "$apt_log" >&2
  echo "ensure-deps: apt-get install ${missing_packages[*]} failed (last lines above)" >&2
  exit 1
fi

check_all
if [[ ${#missing_packages[@]} -ne 0 ]]; then
  echo "ensure-deps: still missing after apt-get install: ${missing_packages[*]}" >&2
  exit 1
fi
