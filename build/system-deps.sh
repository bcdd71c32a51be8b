#!/usr/bin/env bash
# Installs the Debian 12 packages EDU.Framework needs, or says exactly what to run.
#   build/system-deps.sh run      what the edu command needs (GDCM's C# binding)
#   build/system-deps.sh gateway  that plus what the PACS gateway needs (dcmtk's storescu for C-STORE export)
#   build/system-deps.sh test     that plus what the tests need
# As root it installs with apt-get; otherwise it prints the command and exits 1.
set -euo pipefail

run_packages=(libgdcm-cil)
gateway_packages=(dcmtk)
test_packages=(binutils dicom3tools dcmtk python3-pydicom python3-numpy python3-torch python3-onnx orthanc orthanc-dicomweb postgresql nginx)

case "${1:-run}" in
  run)     wanted=("${run_packages[@]}") ;;
  gateway) wanted=("${run_packages[@]}" "${gateway_packages[@]}") ;;
  test)    wanted=("${run_packages[@]}" "${gateway_packages[@]}" "${test_packages[@]}") ;;
  *)       echo "usage: $0 run|gateway|test" >&2; exit 2 ;;
esac

missing=()
for package in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  echo "edu: installing system packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
else
  echo "edu: missing system packages: ${missing[*]}" >&2
  echo "edu: install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
