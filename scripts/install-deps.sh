#!/usr/bin/env bash
# The one script that installs the Debian packages the sandbox, the tests and the app need.
# Used by the README quick start, by .ci/run and named by `lps sandbox up` when something is missing.
# Idempotent: installs only what is missing. Needs root (or sudo).
set -euo pipefail

PACKAGES=(
  # e2e tests and the browser harness
  chromium
  # MSSanté sandbox: real IMAP/LMTP/SMTP servers
  dovecot-core dovecot-imapd dovecot-lmtpd dovecot-submissiond postfix
  # Imaging sandbox: PACS with DICOMweb, and real sample DICOM files
  orthanc orthanc-dicomweb python3-pydicom
  # Independent JPEG-lossless encoder (dcmcjpeg) the viewer's lossless decoder is tested against
  dcmtk
  # Test CPS card (PKCS#11) and certificates
  softhsm2 opensc libengine-pkcs11-openssl openssl
  # Independent XML signature verifier used by the tests
  xmlsec1
  # Fallback TrueType font for the PDF/A companion PDFs (npm dejavu-fonts-ttf is the primary source)
  fonts-dejavu-core
  # Native addon builds (better-sqlite3, pkcs11js)
  python3 make g++
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all Debian packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# postfix asks questions at install time; answer them up front (no system mail service is configured:
# the sandbox runs its own private instance).
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
echo "postfix postfix/mailname string localhost" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian packages start system-wide daemons where an init system exists; the sandbox runs its own
# private instances on free loopback ports, so stop the system ones if they were started.
for svc in orthanc dovecot postfix; do
  if command -v service >/dev/null 2>&1; then $SUDO service "$svc" stop >/dev/null 2>&1 || true; fi
done
echo "install-deps: done"
