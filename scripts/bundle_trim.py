"""What build.spec does to the collected folder on Linux: strip the libraries and trim the
ICU data Qt carries. Both only remove what nothing reads at run time.

Stripping: symbol tables and debug info were about a quarter of the folder (libpython alone
carries 17 MB). PyInstaller's own `strip=True` is not used because it strips every library
blindly, and `strip` rewrites libraries that auditwheel patched (numpy's OpenBLAS) into files
the loader refuses ("ELF load command address/offset not page-aligned"). So each library is
stripped into a copy, and the copy replaces it only if every LOAD segment is still aligned.

ICU: Qt links ICU, whose data library (libicudata, 31 MB) holds every locale's display
names of languages, regions, currencies, units and time zones, transliterators, number
spelling rules, legacy character set tables and word-break dictionaries. Qt formats dates and
numbers and names languages from its own CLDR tables, and the app reads and writes UTF-8
only, so none of that is used; what Qt does use stays: collation for every locale (sorting in
file dialogs), case mapping, normalisation and IDNA, locale fallback data. The data is a
documented ICU package, so ICU's own `icupkg` removes the items and the rest is linked back
into a library of the same name and symbol, which is how ICU itself builds it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PAGE = 4096

# Items of the ICU package left out (paths inside the package, as `icupkg -l` lists them).
ICU_DROPPED_FOLDERS = ("curr/", "lang/", "region/", "unit/", "zone/", "translit/", "rbnf/")


def icu_item_dropped(name: str) -> bool:
    """Display names, transliterators, spelled-out numbers, legacy charset converters
    (`*.cnv`; UTF-8/16/32, ASCII and Latin-1 are built into ICU's code) and the
    dictionaries for word breaks in Thai, Lao, Khmer, Burmese and CJK text."""
    return (name.startswith(ICU_DROPPED_FOLDERS) or name.endswith(".cnv")
            or (name.startswith("brkitr/") and name.endswith(".dict")))


def _run(*argv: str) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


def _elf(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(4) == b"\x7fELF"


def _loadable(path: Path) -> bool:
    """What ld.so checks before it maps a segment: offset and address agree modulo its
    alignment, and that alignment is whole pages."""
    for line in _run("readelf", "-lW", str(path)).splitlines():
        fields = line.split()
        if fields[:1] == ["LOAD"]:
            offset, vaddr, align = int(fields[1], 16), int(fields[2], 16), int(fields[-1], 16)
            if align % PAGE or (vaddr - offset) % align:
                return False
    return True


def strip_libraries(folder: Path) -> tuple[int, list[str]]:
    """Strip every ELF library under `folder`; returns bytes saved and the files left as
    they were."""
    saved, kept = 0, []
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file() or not _elf(path):
            continue
        copy = path.with_name(path.name + ".stripped")
        result = subprocess.run(["strip", "--strip-unneeded", "-o", str(copy), str(path)],
                                capture_output=True)
        if result.returncode == 0 and _loadable(copy):
            saved += path.stat().st_size - copy.stat().st_size
            shutil.copymode(path, copy)
            copy.replace(path)
        else:
            copy.unlink(missing_ok=True)
            kept.append(path.relative_to(folder).as_posix())
    return saved, kept


def _icu_data_symbol(library: Path) -> tuple[str, int, int]:
    """The data symbol (`icudt73_dat`), and the file offset and size of the bytes it names."""
    symbol = None
    for line in _run("readelf", "--dyn-syms", "-W", str(library)).splitlines():
        fields = line.split()
        if len(fields) == 8 and re.fullmatch(r"icudt\d+_dat", fields[7]) \
                and fields[6] != "UND":
            symbol = fields[7], int(fields[1], 16), int(fields[2], 0), int(fields[6])
    if symbol is None:
        raise ValueError(f"{library.name} exports no ICU data symbol")
    name, address, size, section = symbol
    for line in _run("readelf", "-SW", str(library)).splitlines():
        match = re.match(r"\s*\[\s*(\d+)\]\s+\S+\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)", line)
        if match and int(match[1]) == section:
            return name, address - int(match[2], 16) + int(match[3], 16), size
    raise ValueError(f"{library.name}: section {section} of {name} not found")


def trim_icu_data(library: Path) -> int:
    """Rebuild ICU's data `library` without the items `icu_item_dropped` names; returns the
    bytes saved. Needs `icupkg` (Debian's icu-devtools) and a C compiler."""
    symbol, offset, size = _icu_data_symbol(library)
    soname = re.search(r"\(SONAME\)\s+Library soname: \[([^\]]+)\]",
                       _run("readelf", "-d", str(library)))
    if soname is None:
        raise ValueError(f"{library.name} has no SONAME")
    # The package's item names start with its own name, which icupkg takes from the file
    # name: icudt73 plus l (little-endian) or b.
    package = symbol.removesuffix("_dat") + ("l" if sys.byteorder == "little" else "b")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        whole, trimmed = work / "whole" / f"{package}.dat", work / f"{package}.dat"
        whole.parent.mkdir()
        with library.open("rb") as fh:
            fh.seek(offset)
            whole.write_bytes(fh.read(size))
        items = _run("icupkg", "-l", str(whole)).split()
        (work / "dropped.txt").write_text("\n".join(i for i in items if icu_item_dropped(i)))
        # --ignore-deps: the word-break rules name their dictionaries; without one, ICU
        # breaks those scripts by its rules alone.
        _run("icupkg", "--ignore-deps", "-r", str(work / "dropped.txt"), str(whole),
             str(trimmed))
        (work / "data.S").write_text(
            f"  .section .rodata\n  .globl {symbol}\n  .type {symbol}, @object\n"
            f"  .balign 16\n{symbol}:\n  .incbin \"{trimmed}\"\n"
            f"  .size {symbol}, . - {symbol}\n  .section .note.GNU-stack,\"\",@progbits\n")
        rebuilt = work / library.name
        _run("cc", "-shared", "-nostdlib", f"-Wl,-soname,{soname[1]}", "-o", str(rebuilt),
             str(work / "data.S"))
        saved = library.stat().st_size - rebuilt.stat().st_size
        shutil.copymode(library, rebuilt)
        shutil.move(rebuilt, library)
    return saved


def icu_tools_missing() -> list[str]:
    return [tool for tool in ("icupkg", "cc", "readelf") if shutil.which(tool) is None]
