#!/usr/bin/env bash
# Packs what a GPU machine with Python torch and no .NET needs to run EDU (docs/gpu.md) into one tar.xz:
#   edu/, edu-worker/   self-contained linux-x64 publishes with -p:TorchBackend=none: no libtorch inside, the GLIBCXX fix
#                       applied to TorchSharp's libLibTorchSharp.so (build/TorchSharpNativeFix.targets)
#   prebuilt/           TorchSharp 0.107.0's libLibTorchSharp.so (from its NuGet package, built against LibTorch 2.10)
#   libtorchsharp-check.py   checks offline whether that library binds against the machine's torch (API drift)
#   run-on-gpu.sh       the prepared run (build/run-on-gpu.sh), README.md (docs/gpu.md), MANIFEST.json
# Identical files of edu/ and edu-worker/ are hard links, stored once in the tar. The publishes build in a temporary
# artifacts folder, so the repository's own obj/ and bin/ (and tests running from them) are left alone.
# No LibTorchSharp sources: this project does not carry TorchSharp's code (docs/gpu.md, "Why no build from source").
#
#   build/gpu-bundle.sh [--out FILE] [--skip-publish DIR]
#     --out FILE                 the tar to write (default out/edu-gpu-bundle.tar.xz)
#     --skip-publish DIR         take edu/ and edu-worker/ from DIR (an earlier publish) instead of publishing again
# Exit codes: 0 written; 1 a check failed (libtorch in the output, tar too large, publish failed); 2 bad usage.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/out/edu-gpu-bundle.tar.xz"
published=""
limit_bytes=$((100 * 1000 * 1000))

usage() { sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --out) [ $# -ge 2 ] || { echo "error: --out needs a file name" >&2; exit 2; }; out="$2"; shift 2 ;;
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
stage="$(mktemp -d "${TMPDIR:-/tmp}/edu-gpu-bundle.XXXXXX")"
trap 'rm -rf "$stage" "$out.tmp"' EXIT
b="$stage/edu-gpu-bundle"
mkdir -p "$b/prebuilt"

if [ -n "$published" ]; then
  cp -a "$published/edu" "$published/edu-worker" "$b/"
else
  cd "$root"
  # build/system-deps.sh is not run: the bundle's apps need nothing from Debian (GDCM is optional there; docs/gpu.md).
  # restore and build into $stage/artifacts: a TorchBackend=none restore must not rewrite the repository's obj/
  for app in "edu Edu.Cli/Edu.Cli" "edu-worker Edu.Worker/Edu.Worker"; do
    set -- $app
    dotnet publish "hosts/$2.csproj" -c Release -r linux-x64 --self-contained -p:TorchBackend=none \
      --artifacts-path "$stage/artifacts" -o "$b/$1" --nologo -v quiet -clp:NoSummary
  done
  rm -rf "$stage/artifacts"
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

cp "$root/build/libtorchsharp-check.py" "$b/libtorchsharp-check.py"
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
dirty="$([ -n "$(git -C "$root" status --porcelain 2>/dev/null)" ] && echo true || echo false)"
cat > "$b/MANIFEST.json" <<EOF
{"name":"edu-gpu-bundle","commit":"$commit","dirty":$dirty,"created":"$(date -u +%Y-%m-%dT%H:%M:%SZ)","torchsharp":"0.107.0","libtorch_built_against":"2.10.0","rid":"linux-x64","torch_backend":"none"}
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
echo "bundle: $out ($((bytes / 1000 / 1000)) MB; $((unpacked / 1000 / 1000)) MB unpacked, $shared files shared by edu and edu-worker)"
