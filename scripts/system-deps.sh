#!/usr/bin/env bash
# Install the Debian/Ubuntu packages sohoa needs, only those that are missing.
# Usage: scripts/system-deps.sh run|test|bench
set -euo pipefail

RUNTIME=(tesseract-ocr tesseract-ocr-vie tesseract-ocr-eng poppler-utils qpdf softhsm2 libnss3-tools
         fonts-liberation fonts-liberation2 fonts-dejavu-core fonts-dejavu-extra)
TEST=(postgresql redis-server rabbitmq-server chromium chromium-driver libzbar0 zbar-tools procps
      ghostscript libreoffice-writer-nogui openssl nodejs npm)

want=("${RUNTIME[@]}")
[ "${1:-run}" = "test" ] && want+=("${TEST[@]}")
[ "${1:-run}" = "bench" ] && want+=("${TEST[@]}" ghostscript)
if ! python3 -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  want+=(python3 python3-venv python3-dev)
fi

missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# A server already on PATH (installed some other way) counts as present.
filtered=()
for pkg in "${missing[@]}"; do
  case "$pkg" in
    postgresql) command -v pg_ctlcluster >/dev/null || command -v postgres >/dev/null || filtered+=("$pkg") ;;
    redis-server) command -v redis-server >/dev/null || filtered+=("$pkg") ;;
    rabbitmq-server) command -v rabbitmq-server >/dev/null || filtered+=("$pkg") ;;
    nodejs) command -v node >/dev/null || filtered+=("$pkg") ;;
    npm) command -v npm >/dev/null || filtered+=("$pkg") ;;
    *) filtered+=("$pkg") ;;
  esac
done
[ ${#filtered[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "Installing system packages: ${filtered[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${filtered[@]}"
