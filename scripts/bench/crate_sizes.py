"""Code and data bytes per crate of unstripped release binaries, side by side: what each crate
adds to a function over `coldstart-baseline` (docs/performance.md, "Cold start, memory,
size"). Not part of `make bench`: the release profile strips symbols, so the binaries must be
linked again without stripping first, each one alone (only that link is redone):

    cargo rustc --release -p authorizer --bin authorizer -- -C strip=none
    cargo rustc --release -p coldstart-baseline --bin coldstart-baseline -- -C strip=none
    python3 scripts/bench/crate_sizes.py target/release/coldstart-baseline target/release/authorizer

The crate of a symbol is the first path segment of its demangled name (for `<T as Trait>`
impls, of the type), as `cargo bloat --crates` counts them; symbols of inlined generic code
count for the crate that instantiated them, so read the split as approximate. Needs `nm`
(binutils). The next `cargo build --release` links the binaries stripped again."""
import collections
import re
import subprocess
import sys

CRATE = re.compile(r"^(?:<(?:&(?:mut )?)?)?([A-Za-z_][A-Za-z0-9_]*)::")


def sizes(path):
    out = subprocess.run(
        ["nm", "--print-size", "--size-sort", "--demangle", path],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    per_crate = collections.Counter()
    for line in out.splitlines():
        parts = line.split(None, 3)
        if len(parts) < 4:
            continue
        size, kind, name = int(parts[1], 16), parts[2], parts[3]
        if kind.lower() not in ("t", "r", "d", "b"):
            continue
        m = CRATE.match(name)
        per_crate[m.group(1) if m else "[C and unnamed]"] += size
    return per_crate


def main(paths):
    tables = [sizes(p) for p in paths]
    crates = sorted(set().union(*tables), key=lambda c: -max(t[c] for t in tables))
    print(f"{'crate':<28}" + "".join(f"{p.rsplit('/', 1)[-1][:18]:>20}" for p in paths))
    for crate in crates[:40]:
        print(f"{crate:<28}" + "".join(f"{t[crate] / 1024:>18.0f}Ki" for t in tables))
    print(f"{'total (symbols)':<28}" + "".join(f"{sum(t.values()) / 1024:>18.0f}Ki" for t in tables))


if __name__ == "__main__":
    main(sys.argv[1:])
