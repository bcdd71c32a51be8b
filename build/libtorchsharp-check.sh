#!/usr/bin/env bash
# Checks, without running anything, whether a libLibTorchSharp.so can bind every symbol it
# imports from the torch libraries of a given folder (a LibTorch lib/ folder, the NuGet
# runtimes/linux-x64/native folder, or a pip install's site-packages/torch/lib) and from the
# system libraries it names (libstdc++, libc, ...). That is the API-drift check for running
# TorchSharp's prebuilt glue (compiled against LibTorch 2.10) against another torch version.
#
# usage: build/libtorchsharp-check.sh --lib FILE --torch-lib DIR [--list FILE]
#   --lib FILE       the libLibTorchSharp.so to check
#   --torch-lib DIR  folder holding libtorch.so, libtorch_cpu.so, libc10.so (and, for CUDA,
#                    libtorch_cuda.so, libc10_cuda.so)
#   --list FILE      also write every unresolved symbol (mangled, then demangled) to FILE
# exit: 0 all resolve; 1 something does not (printed); 2 bad arguments, missing tools or files.
#
# How a symbol counts as resolved: the libraries searched are the dependency closure of --lib
# (DT_NEEDED, found in DIR first, then in the requesting library's RUNPATH/RPATH, then through
# ldconfig), as the dynamic loader would load them. A reference with a version (name@VER)
# resolves only to a definition of that version or an unversioned one. A reference whose
# version need is marked WEAK (what build/TorchSharpNativeFix.targets does for GLIBCXX_3.4.32)
# and that no library defines is reported apart, with whether a relocation uses it: the loader
# accepts the library, and only binding that symbol (a call, or LD_BIND_NOW=1) would fail.
set -euo pipefail

die() { echo "libtorchsharp-check: $*" >&2; exit 2; }

lib= torch_lib= list=
while [ $# -gt 0 ]; do
  case "$1" in
    --lib) lib="${2:-}"; shift 2 || die "--lib needs a file" ;;
    --torch-lib) torch_lib="${2:-}"; shift 2 || die "--torch-lib needs a folder" ;;
    --list) list="${2:-}"; shift 2 || die "--list needs a file" ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[ -n "$lib" ] || die "--lib FILE is required (see --help)"
[ -n "$torch_lib" ] || die "--torch-lib DIR is required (see --help)"

missing=()
for tool in nm readelf c++filt; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
ldconfig_bin=$(command -v ldconfig || echo /sbin/ldconfig)
[ -x "$ldconfig_bin" ] || missing+=("ldconfig")
[ ${#missing[@]} -eq 0 ] || die "missing tools: ${missing[*]} (Debian/Ubuntu: apt-get install binutils libc-bin)"

[ -f "$lib" ] || die "no such library: $lib"
[ -d "$torch_lib" ] || die "no such folder: $torch_lib"
for need in libtorch.so libtorch_cpu.so libc10.so; do
  [ -e "$torch_lib/$need" ] || die "$torch_lib has no $need: not a torch lib folder"
done
torch_lib=$(cd "$torch_lib" && pwd)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Finds the file the loader would take for NAME, needed by library FROM.
find_needed() {
  local name="$1" from="$1" dir
  from="$2"
  if [ -e "$torch_lib/$name" ]; then readlink -f "$torch_lib/$name"; return; fi
  local origin; origin=$(dirname "$(readlink -f "$from")")
  local paths
  paths=$(readelf -d "$from" 2>/dev/null | sed -n 's/.*(\(RUNPATH\|RPATH\)).*\[\(.*\)\]/\2/p' | tr ':' '\n')
  while IFS= read -r dir; do
    [ -n "$dir" ] || continue
    dir="${dir//\$ORIGIN/$origin}"; dir="${dir//\$\{ORIGIN\}/$origin}"
    if [ -e "$dir/$name" ]; then readlink -f "$dir/$name"; return; fi
  done <<< "$paths"
  local arch; case "$(uname -m)" in x86_64) arch='x86-64' ;; aarch64) arch='AArch64' ;; *) arch='' ;; esac
  local cached
  cached=$(awk -v n="$name" -v a="$arch" '!found && $1 == n && index($0, a) { print $NF; found = 1 }' "$work/ldcache")
  [ -z "$cached" ] || readlink -f "$cached"
}

"$ldconfig_bin" -p > "$work/ldcache"
nm -D --undefined-only -P "$lib" | awk '$2 == "U" { print $1 }' | sort -u > "$work/undefined"
readelf -V "$lib" | awk '/Name:/ && /Flags: WEAK/ { for (i = 1; i <= NF; i++) if ($i == "Name:") print $(i + 1) }' \
  | sort -u > "$work/weak_versions"
cp "$work/undefined" "$work/remaining"

# Keeps in remaining the references that library $1 does not define. A definition is "name" when
# unversioned, "name@VER" when versioned; a reference name@VER takes either.
drop_resolved() {
  nm -D --defined-only -P "$1" 2>/dev/null | awk '{ n = $1; sub(/@@/, "@", n); print n }' > "$work/defs"
  awk -v defs="$work/defs" '
    BEGIN { while ((getline line < defs) > 0) have[line] = 1 }
    { ref = $0; name = ref; at = index(ref, "@"); if (at) name = substr(ref, 1, at - 1)
      if (!(have[name] || (at && have[ref]))) print ref }' "$work/remaining" > "$work/remaining.new"
  mv "$work/remaining.new" "$work/remaining"
}

# The dependency closure, breadth first, as the loader builds a library's scope; it stops early
# once every reference is resolved.
lib=$(readlink -f "$lib")
queue=("$lib")
declare -A seen=(["$lib"]=1)
providers=()
not_found_direct=()
not_found_transitive=()
while [ ${#queue[@]} -gt 0 ] && [ -s "$work/remaining" ]; do
  current="${queue[0]}"; queue=("${queue[@]:1}")
  if [ "$current" != "$lib" ]; then providers+=("$current"); drop_resolved "$current"; fi
  while IFS= read -r name; do
    [ -n "$name" ] || continue
    path=$(find_needed "$name" "$current")
    if [ -z "$path" ]; then
      if [ "$current" = "$lib" ]; then not_found_direct+=("$name")
      else not_found_transitive+=("$name (needed by $(basename "$current"))"); fi
      continue
    fi
    if [ -z "${seen[$path]:-}" ]; then seen[$path]=1; queue+=("$path"); fi
  done < <(readelf -d "$current" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
done

awk -v weak="$work/weak_versions" -v un="$work/unresolved" -v wk="$work/weak_unresolved" '
  BEGIN { while ((getline line < weak) > 0) isweak[line] = 1 }
  { at = index($0, "@"); if (at && isweak[substr($0, at + 1)]) print > wk; else print > un }' "$work/remaining"
touch "$work/unresolved" "$work/weak_unresolved"

total=$(wc -l < "$work/undefined")
unresolved=$(wc -l < "$work/unresolved")
weak_unresolved=$(wc -l < "$work/weak_unresolved")

abi_of() { if [ "$(nm -D "$1" 2>/dev/null | grep -c '__cxx11')" -gt 0 ]; then echo "new (_GLIBCXX_USE_CXX11_ABI=1)"; else echo "old (_GLIBCXX_USE_CXX11_ABI=0)"; fi; }
cuda=absent
[ -e "$torch_lib/libtorch_cuda.so" ] && cuda="present (libtorch_cuda.so)"

echo "libtorchsharp-check: $lib"
echo "  torch lib folder: $torch_lib"
echo "  C++ ABI: torch $(abi_of "$torch_lib/libc10.so"), library $(abi_of "$lib")"
echo "  CUDA libraries in the folder: $cuda"
names=$(printf '%s\n' "${providers[@]##*/}" | awk 'NR <= 12' | tr '\n' ' ' | sed 's/ $//')
[ ${#providers[@]} -le 12 ] || names="$names ..."
echo "  libraries searched: ${#providers[@]} ($names)"
for n in "${not_found_transitive[@]}"; do echo "  note: not found, not searched: $n"; done
echo "  undefined symbols: $total, unresolved: $unresolved, unresolved behind a WEAK version need: $weak_unresolved"
if [ "$weak_unresolved" -gt 0 ]; then
  echo "  behind a WEAK version need (the library loads; a call through it would fail):"
  readelf -rW "$lib" | awk '{ print $5 }' | sed 's/@.*//' | sort -u > "$work/relocated"
  while IFS= read -r ref; do
    if grep -qxF "${ref%%@*}" "$work/relocated"; then use="used by a relocation: fails when bound (LD_BIND_NOW=1 at load)"
    else use="no relocation uses it: never bound"; fi
    echo "    $(echo "$ref" | c++filt) ($use)"
  done < <(head -n 20 "$work/weak_unresolved")
fi
if [ "$unresolved" -gt 0 ]; then
  echo "  unresolved (first 40, demangled):"
  head -n 40 "$work/unresolved" | c++filt | sed 's/^/    /'
fi
if [ -n "$list" ]; then
  { cat "$work/unresolved"; cat "$work/weak_unresolved"; echo "--- demangled"; cat "$work/unresolved" "$work/weak_unresolved" | c++filt; } > "$list"
fi
status=0
for n in "${not_found_direct[@]}"; do echo "  missing needed library: $n"; status=1; done
[ "$unresolved" -eq 0 ] || status=1
if [ $status -eq 0 ]; then echo "result: OK"; else echo "result: FAILED"; fi
exit $status
