#!/usr/bin/env python3
"""Compares two outputs in `addr2line -a -i -f` form: per address, the chain of
(function without parameters, file basename, line). Prints matches and the first mismatches."""
import os
import sys


def parse(path):
    chains = {}
    current = None
    with open(path, errors="replace") as f:
        lines = f.read().splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("0x"):
            current = int(line, 16)
            chains[current] = []
            i += 1
            continue
        function = line.split("(")[0].strip()
        location = lines[i + 1] if i + 1 < len(lines) else "??:?"
        location = location.split(" (discriminator")[0]
        file, _, num = location.rpartition(":")
        # eu-addr2line prints file:line:column
        head, _, maybe_line = file.rpartition(":")
        if head and maybe_line.isdigit():
            file, num = head, maybe_line
        chains[current].append((function, os.path.basename(file), num if num not in ("", "0") else "?"))
        i += 2
    return chains


def main():
    ours, reference = parse(sys.argv[1]), parse(sys.argv[2])
    if "--subset" in sys.argv:  # the first file answered only some of the addresses
        reference = {a: c for a, c in reference.items() if a in ours}
    same = differ = 0
    shown = 0
    for address, want in reference.items():
        got = ours.get(address)
        if got == want:
            same += 1
        else:
            differ += 1
            if shown < 5:
                print(f"  0x{address:x}: hotline {got} vs reference {want}", file=sys.stderr)
                shown += 1
    total = same + differ
    print(f"{same} of {total} addresses identical ({100.0 * same / max(total, 1):.2f}%)")


main()
