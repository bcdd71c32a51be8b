#!/usr/bin/env bash
# The PACS gateway's latency: a real Orthanc (Debian's orthanc + orthanc-dicomweb) in a temporary folder on loopback,
# then `edu bench gateway`: a synthetic CT series (default 300 slices of 512×512) sent by C-STORE to Orthanc and to
# the gateway's own SCP, segmented by an in-process worker, the SEG stored back by STOW-RS.
#   MODEL=RUN_OR_PACKAGE [SLICES=300] [SIZE=512] [STABLE=10] bench/gateway.sh [extra edu bench gateway options]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
: "${MODEL:?set MODEL to a CT run folder or model package}"
SLICES="${SLICES:-300}" SIZE="${SIZE:-512}" STABLE="${STABLE:-10}"
[ -x /usr/sbin/Orthanc ] || { echo "Orthanc is not installed: apt-get install orthanc orthanc-dicomweb" >&2; exit 2; }
dir="$(mktemp -d)"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
http="$(port)" dicom="$(port)"
cat > "$dir/orthanc.json" <<JSON
{ "Name": "EDU-BENCH", "StorageDirectory": "$dir/storage", "IndexDirectory": "$dir/storage",
  "HttpPort": $http, "DicomPort": $dicom, "DicomAet": "ORTHANC", "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false, "DicomAlwaysAllowStore": false, "DicomCheckModalityHost": true,
  "DicomModalities": { "edu": [ "EDU", "127.0.0.1", 104 ] }, "StableAge": $STABLE,
  "Plugins": [ "/usr/share/orthanc/plugins/libOrthancDicomWeb.so" ], "DicomWeb": { "Enable": true, "Root": "/dicom-web/" } }
JSON
/usr/sbin/Orthanc "$dir/orthanc.json" > "$dir/orthanc.log" 2>&1 &
orthanc=$!
trap 'kill $orthanc 2>/dev/null; wait $orthanc 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$http/system" >/dev/null && break; sleep 0.1; done
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u +%F)"
"$root/edu" bench gateway --model "$MODEL" --orthanc "http://127.0.0.1:$http/" --orthanc-dicom-port "$dicom" \
  --slices "$SLICES" --size "$SIZE" --orthanc-stable-age "$STABLE" --quiet "$STABLE" "$@"
