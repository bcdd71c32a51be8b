#!/usr/bin/env bash
# Packs what a GPU machine with Python torch and no .NET needs to run EDU (docs/gpu.md) into one tar.xz:
#   edu/, edu-worker/   self-contained linux-x64 publishes with -p:TorchBackend=none: no libtorch inside, the GLIBCXX fix
#                       applied to the prebuilt libLibTorchSharp.so (build/TorchSharpNativeFix.targets)
#   libtorchsharp/      build/libtorchsharp/ (TorchSharp 0.107.0's native sources and build.sh), to build LibTorchSharp
#                       against the machine's own torch
#   prebuilt/           TorchSharp 0.107.0's libLibTorchSharp.so (built against LibTorch 2.10), the fallback
#   run-on-gpu.sh       the prepared run (build/run-on-gpu.sh), README.txt, MANIFEST.json
# Identical files of edu/ and edu-worker/ are hard links, stored once in the tar.
#
#   build/gpu-bundle.sh [--out FILE] [--allow-missing-sources] [--skip-publish DIR]
#     --out FILE                 the tar to write (default out/edu-gpu-bundle.tar.xz)
#     --allow-missing-sources    pack without build/libtorchsharp/ when it is absent (run-on-gpu.sh then uses prebuilt/);
#                                without it a missing build/libtorchsharp/build.sh is an error (exit 2)
#     --skip-publish DIR         take edu/ and edu-worker/ from DIR (an earlier publish) instead of publishing again
# Exit codes: 0 written; 1 a check failed (libtorch in the output, tar too large, publish failed); 2 bad usage.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/out/edu-gpu-bundle.tar.xz"
allow_missing=0
published=""
limit_bytes=$((100 * 1000 * 1000))

usage() { sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --out) [ $# -ge 2 ] || { echo "error: --out needs a file name" >&2; exit 2; }; out="$2"; shift 2 ;;
    --allow-missing-sources) allow_missing=1; shift ;;
    --skip-publish) [ $# -ge 2 ] || { echo "error: --skip-publish needs a folder" >&2; exit 2; }; published="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
if [ -n "$published" ]; then
  for app in edu edu-worker; do
    [ -x "$published/$app/$app" ] || { echo "error: --skip-publish $published: no $app/$app in it" >&2; exit 2; }
  done
fi
sources="$root/build/libtorchsharp"
if [ ! -x "$sources/build.sh" ]; then
  if [ "$allow_missing" = 0 ]; then
    echo "error: $sources/build.sh is missing: the bundle carries the LibTorchSharp sources (build/libtorchsharp, TorchSharp 0.107.0);" \
         "merge them first, or pass --allow-missing-sources to pack without them (run-on-gpu.sh then uses the prebuilt library)" >&2
    exit 2
  fi
  echo "warning: $sources/build.sh is missing: packing without the LibTorchSharp sources" >&2
  sources=""
fi

stage="$(mktemp -d "${TMPDIR:-/tmp}/edu-gpu-bundle.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
b="$stage/edu-gpu-bundle"
mkdir -p "$b/prebuilt"

if [ -n "$published" ]; then
  cp -a "$published/edu" "$published/edu-worker" "$b/"
else
  cd "$root"
  # build/system-deps.sh is not run: the bundle's apps need nothing from Debian (GDCM is optional there; docs/gpu.md).
  dotnet publish hosts/Edu.Cli/Edu.Cli.csproj -c Release -r linux-x64 --self-contained -p:TorchBackend=none \
    -o "$b/edu" --nologo -v quiet -clp:NoSummary
  dotnet publish hosts/Edu.Worker/Edu.Worker.csproj -c Release -r linux-x64 --self-contained -p:TorchBackend=none \
    -o "$b/edu-worker" --nologo -v quiet -clp:NoSummary
fi

# No LibTorch inside: the machine's torch/lib provides it. Debug symbols are not shipped either.
forbidden="$(find "$b/edu" "$b/edu-worker" \( -name 'libtorch*' -o -name 'libc10*' -o -name 'libgomp*' \) -print)"
if [ -n "$forbidden" ]; then
  echo "error: the publish holds LibTorch libraries (TorchBackend=none should leave them out):" >&2
  echo "$forbidden" >&2
  exit 1
fi
find "$b/edu" "$b/edu-worker" -name '*.pdb' -delete
for app in edu edu-worker; do
  [ -f "$b/$app/libLibTorchSharp.so" ] || { echo "error: $app has no libLibTorchSharp.so (the TorchSharp package's native glue)" >&2; exit 1; }
done
cp "$b/edu/libLibTorchSharp.so" "$b/prebuilt/libLibTorchSharp.so"

if [ -n "$sources" ]; then
  mkdir -p "$b/libtorchsharp"
  # the sources and scripts, not a local build's output
  (cd "$sources" && tar cf - --exclude='./out' --exclude='./obj' --exclude='./build-*' .) | (cd "$b/libtorchsharp" && tar xf -)
fi
cp "$root/build/run-on-gpu.sh" "$b/run-on-gpu.sh"
chmod +x "$b/run-on-gpu.sh"
cp "$root/docs/gpu.md" "$b/README.md"

# Hard-link the files edu/ and edu-worker/ share (same relative path, same bytes): the runtime and most assemblies.
shared=0
while IFS= read -r -d '' f; do
  rel="${f#"$b/edu-worker/"}"
  if [ -f "$b/edu/$rel" ] && cmp -s "$f" "$b/edu/$rel"; then
    ln -f "$b/edu/$rel" "$f"
    shared=$((shared + 1))
  fi
done < <(find "$b/edu-worker" -type f -print0)

commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
dirty="$(git -C "$root" status --porcelain 2>/dev/null | grep -q . && echo true || echo false)"
cat > "$b/MANIFEST.json" <<EOF
{"name":"edu-gpu-bundle","commit":"$commit","dirty":$dirty,"created":"$(date -u +%Y-%m-%dT%H:%M:%SZ)","torchsharp":"0.107.0","libtorch_built_against":"2.10.0","rid":"linux-x64","torch_backend":"none","libtorchsharp_sources":$([ -n "$sources" ] && echo true || echo false)}
EOF

mkdir -p "$(dirname "$out")"
tar -C "$stage" -cf - edu-gpu-bundle | xz -T0 -6 > "$out.tmp"
mv "$out.tmp" "$out"
bytes="$(stat -c %s "$out")"
if [ "$bytes" -ge "$limit_bytes" ]; then
  echo "error: $out is $bytes bytes, over the limit of $limit_bytes" >&2
  exit 1
fi
unpacked="$(du -sb "$b" | cut -f1)"
echo "bundle: $out ($((bytes / 1000 / 1000)) MB; $((unpacked / 1000 / 1000)) MB unpacked, $shared files shared by edu and edu-worker; sources $([ -n "$sources" ] && echo included || echo MISSING))"
