#!/usr/bin/env python3
"""Checks, without running anything, whether a libLibTorchSharp.so can bind every symbol it
imports from the torch libraries of a given folder (a LibTorch lib/ folder, the NuGet
runtimes/linux-x64/native folder, or a pip install's site-packages/torch/lib) and from the
system libraries it names (libstdc++, libc, ...). That is the API-drift check for running
TorchSharp's prebuilt glue (compiled against LibTorch 2.10) against another torch version.

usage: build/libtorchsharp-check.py --lib FILE --torch-lib DIR [--list FILE]
  --lib FILE       the libLibTorchSharp.so to check
  --torch-lib DIR  folder holding libtorch.so, libtorch_cpu.so, libc10.so (and, for CUDA,
                   libtorch_cuda.so, libc10_cuda.so)
  --list FILE      also write every unresolved symbol (mangled, then demangled) to FILE
exit: 0 all resolve; 1 something does not (printed); 2 bad arguments or files.

Only Python 3's standard library: it reads the ELF files itself, so a GPU machine with PyTorch
but without binutils can run it (c++filt, where present, demangles the names it prints).

How a symbol counts as resolved: the libraries searched are the dependency closure of --lib
(DT_NEEDED, found in DIR first, then in the requesting library's RUNPATH/RPATH, then through
ldconfig's cache and the default folders), breadth first as the loader builds a library's scope,
stopping once everything resolves. A reference with a version (name@VER) resolves to a
definition of that version or an unversioned one; an unversioned reference to an unversioned or
a default-version definition. A reference whose version need is marked WEAK (what
build/TorchSharpNativeFix.targets does for GLIBCXX_3.4.32) and that nothing defines is reported
apart, with whether a relocation uses it: the loader accepts the library, and only binding that
symbol (a call, or LD_BIND_NOW=1) would fail.
"""
import mmap
import os
import platform
import shutil
import struct
import subprocess
import sys
from collections import deque

SHT_RELA, SHT_DYNAMIC, SHT_REL, SHT_DYNSYM = 4, 6, 9, 11
SHT_GNU_VERDEF, SHT_GNU_VERNEED, SHT_GNU_VERSYM = 0x6FFFFFFD, 0x6FFFFFFE, 0x6FFFFFFF
DT_NEEDED, DT_RPATH, DT_RUNPATH = 1, 15, 29
VER_FLG_WEAK = 2
STB_WEAK = 2


class BadInput(Exception):
    pass


class Elf:
    """The dynamic-linking view of one 64-bit little-endian ELF shared library."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            try:
                data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            except ValueError as e:
                raise BadInput(f"{path}: empty or unreadable ({e})")
        try:
            self._read(data)
        finally:
            data.close()

    def _read(self, d):
        if d[:4] != b"\x7fELF":
            raise BadInput(f"{self.path}: not an ELF file")
        if d[4] != 2 or d[5] != 1:
            raise BadInput(f"{self.path}: not a 64-bit little-endian ELF file")
        shoff, = struct.unpack_from("<Q", d, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", d, 0x3A)
        sections = [struct.unpack_from("<IIQQQQIIQQ", d, shoff + i * shentsize) for i in range(shnum)]

        def strtab(index):
            s = sections[index]
            return d[s[4]:s[4] + s[5]]

        def cstr(table, offset):
            return table[offset:table.index(b"\0", offset)].decode("utf-8", "replace")

        by_type = {}
        for i, s in enumerate(sections):
            by_type.setdefault(s[1], []).append(i)

        self.needed, self.runpath = [], []
        for i in by_type.get(SHT_DYNAMIC, []):
            s = sections[i]
            names = strtab(s[6])
            for off in range(s[4], s[4] + s[5], 16):
                tag, val = struct.unpack_from("<qQ", d, off)
                if tag == 0:
                    break
                if tag == DT_NEEDED:
                    self.needed.append(cstr(names, val))
                elif tag in (DT_RPATH, DT_RUNPATH):
                    self.runpath += [p for p in cstr(names, val).split(":") if p]

        self.undefined = {}      # "name" or "name@VER" -> dynsym index (strong references only)
        self.defined = set()     # "name" (unversioned or default version) and "name@VER"
        self.weak_versions = set()
        self.relocated = set()   # dynsym indices a relocation uses
        self.cxx11 = False
        dynsym = by_type.get(SHT_DYNSYM, [])
        if not dynsym:
            return
        sym = sections[dynsym[0]]
        names = strtab(sym[6])
        count = sym[5] // 24

        versions = {}            # version index -> name, from verdef and verneed
        for i in by_type.get(SHT_GNU_VERDEF, []):
            s = sections[i]
            vnames = strtab(s[6])
            off = s[4]
            while True:
                _, _, ndx, cnt, _, aux, nxt = struct.unpack_from("<HHHHIII", d, off)
                if cnt:
                    versions[ndx] = cstr(vnames, struct.unpack_from("<I", d, off + aux)[0])
                if not nxt:
                    break
                off += nxt
        for i in by_type.get(SHT_GNU_VERNEED, []):
            s = sections[i]
            vnames = strtab(s[6])
            off = s[4]
            while True:
                _, cnt, _, aux, nxt = struct.unpack_from("<HHIII", d, off)
                a = off + aux
                for _ in range(cnt):
                    _, flags, other, name, anext = struct.unpack_from("<IHHII", d, a)
                    versions[other] = cstr(vnames, name)
                    if flags & VER_FLG_WEAK:
                        self.weak_versions.add(cstr(vnames, name))
                    if not anext:
                        break
                    a += anext
                if not nxt:
                    break
                off += nxt
        versym = None
        for i in by_type.get(SHT_GNU_VERSYM, []):
            s = sections[i]
            versym = struct.unpack_from(f"<{count}H", d, s[4])

        for k in range(1, count):
            name_off, info, _, shndx, _, _ = struct.unpack_from("<IBBHQQ", d, sym[4] + k * 24)
            name = cstr(names, name_off)
            if not name:
                continue
            if "__cxx11" in name:
                self.cxx11 = True
            v = versym[k] if versym else 1
            ver = versions.get(v & 0x7FFF) if (v & 0x7FFF) > 1 else None
            if shndx == 0:
                if info >> 4 != STB_WEAK:
                    self.undefined[f"{name}@{ver}" if ver else name] = k
            else:
                if ver:
                    self.defined.add(f"{name}@{ver}")
                if not ver or not v & 0x8000:
                    self.defined.add(name)

        for rtype, size in ((SHT_RELA, 24), (SHT_REL, 16)):
            for i in by_type.get(rtype, []):
                s = sections[i]
                if s[6] != dynsym[0]:
                    continue
                for off in range(s[4], s[4] + s[5], size):
                    self.relocated.add(struct.unpack_from("<Q", d, off + 8)[0] >> 32)

    def resolves(self, ref):
        name, _, ver = ref.partition("@")
        return name in self.defined or (bool(ver) and ref in self.defined)


def ldconfig_cache():
    arch = {"x86_64": "x86-64", "aarch64": "AArch64"}.get(platform.machine(), "")
    tool = shutil.which("ldconfig") or ("/sbin/ldconfig" if os.path.exists("/sbin/ldconfig") else None)
    cache = {}
    if tool:
        out = subprocess.run([tool, "-p"], capture_output=True, text=True).stdout
        for line in out.splitlines()[1:]:
            parts = line.strip().split(" => ")
            if len(parts) == 2 and arch in parts[0]:
                cache.setdefault(parts[0].split()[0], parts[1])
    return cache


DEFAULT_DIRS = ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu",
                "/usr/lib/aarch64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"]


def find_needed(name, requester, torch_lib, cache):
    origin = os.path.dirname(requester.path)
    dirs = [torch_lib] + [p.replace("${ORIGIN}", origin).replace("$ORIGIN", origin) for p in requester.runpath]
    for folder in dirs:
        candidate = os.path.join(folder, name)
        if os.path.exists(candidate):
            return os.path.realpath(candidate)
    if name in cache and os.path.exists(cache[name]):
        return os.path.realpath(cache[name])
    for folder in DEFAULT_DIRS:
        candidate = os.path.join(folder, name)
        if os.path.exists(candidate):
            return os.path.realpath(candidate)
    return None


def demangle(refs):
    tool = shutil.which("c++filt")
    if not tool or not refs:
        return list(refs)
    out = subprocess.run([tool], input="\n".join(refs) + "\n", capture_output=True, text=True).stdout
    lines = out.splitlines()
    return lines if len(lines) == len(refs) else list(refs)


def parse(argv):
    args = {"--lib": None, "--torch-lib": None, "--list": None}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            print(__doc__.strip())
            sys.exit(0)
        if a not in args:
            raise BadInput(f"unknown argument '{a}' (see --help)")
        if i + 1 >= len(argv):
            raise BadInput(f"{a} needs a value")
        args[a] = argv[i + 1]
        i += 2
    if not args["--lib"]:
        raise BadInput("--lib FILE is required (see --help)")
    if not args["--torch-lib"]:
        raise BadInput("--torch-lib DIR is required (see --help)")
    return args["--lib"], args["--torch-lib"], args["--list"]


def main(argv):
    lib_path, torch_lib, list_path = parse(argv)
    if not os.path.isfile(lib_path):
        raise BadInput(f"no such library: {lib_path}")
    if not os.path.isdir(torch_lib):
        raise BadInput(f"no such folder: {torch_lib}")
    for need in ("libtorch.so", "libtorch_cpu.so", "libc10.so"):
        if not os.path.exists(os.path.join(torch_lib, need)):
            raise BadInput(f"{torch_lib} has no {need}: not a torch lib folder")
    torch_lib = os.path.abspath(torch_lib)
    lib = Elf(os.path.realpath(lib_path))
    cache = ldconfig_cache()

    remaining = set(lib.undefined)
    total = len(remaining)
    queue, seen = deque([lib]), {lib.path}
    searched, missing_direct, missing_transitive = [], [], []
    while queue and remaining:
        current = queue.popleft()
        if current is not lib:
            searched.append(current)
            remaining = {r for r in remaining if not current.resolves(r)}
        for name in current.needed:
            path = find_needed(name, current, torch_lib, cache)
            if path is None:
                (missing_direct if current is lib else missing_transitive).append(
                    name if current is lib else f"{name} (needed by {os.path.basename(current.path)})")
            elif path not in seen:
                seen.add(path)
                queue.append(Elf(path))

    weak = sorted(r for r in remaining if r.partition("@")[2] in lib.weak_versions)
    unresolved = sorted(r for r in remaining if r not in weak)

    def abi(elf):
        return "new (_GLIBCXX_USE_CXX11_ABI=1)" if elf.cxx11 else "old (_GLIBCXX_USE_CXX11_ABI=0)"

    c10 = Elf(os.path.realpath(os.path.join(torch_lib, "libc10.so")))
    cuda = "present (libtorch_cuda.so)" if os.path.exists(os.path.join(torch_lib, "libtorch_cuda.so")) else "absent"
    names = " ".join(os.path.basename(e.path) for e in searched[:12]) + (" ..." if len(searched) > 12 else "")
    print(f"libtorchsharp-check: {lib.path}")
    print(f"  torch lib folder: {torch_lib}")
    print(f"  C++ ABI: torch {abi(c10)}, library {abi(lib)}")
    print(f"  CUDA libraries in the folder: {cuda}")
    print(f"  libraries searched: {len(searched)} ({names})")
    for note in missing_transitive:
        print(f"  note: not found, not searched: {note}")
    print(f"  undefined symbols: {total}, unresolved: {len(unresolved)}, "
          f"unresolved behind a WEAK version need: {len(weak)}")
    if weak:
        print("  behind a WEAK version need (the library loads; a call through it would fail):")
        for ref, shown in zip(weak, demangle(weak)):
            use = ("used by a relocation: fails when bound (LD_BIND_NOW=1 at load)"
                   if lib.undefined[ref] in lib.relocated else "no relocation uses it: never bound")
            print(f"    {shown} ({use})")
    shown = demangle(unresolved)
    if unresolved:
        print("  unresolved (first 40, demangled):" if shutil.which("c++filt") else "  unresolved (first 40):")
        for line in shown[:40]:
            print(f"    {line}")
    if list_path:
        with open(list_path, "w") as f:
            f.write("".join(r + "\n" for r in unresolved + weak))
            f.write("--- demangled\n")
            f.write("".join(r + "\n" for r in shown + demangle(weak)))
    for name in missing_direct:
        print(f"  missing needed library: {name}")
    ok = not unresolved and not missing_direct
    print("result: OK" if ok else "result: FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BadInput as e:
        print(f"libtorchsharp-check: {e}", file=sys.stderr)
        sys.exit(2)
