#!/usr/bin/env python3
"""Summarise a py-spy ``--format raw`` profile (collapsed stacks): where the samples went.

    .venv/bin/python bench/profile_summary.py PROFILE.txt [--top 25] [--match TEXT]

Prints the share of samples per thread, then the functions with the most samples on the
stack (inclusive) and at the top of the stack (self). ``--match`` limits the inclusive
list to frames whose text contains TEXT (for example ``haven/``).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("profile")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--match", default="")
    args = parser.parse_args()
    threads: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in Path(args.profile).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        total += n
        thread = frames[0] if frames[0].startswith(("thread", "process")) else "?"
        threads[re.sub(r"0x[0-9a-f]+", "", thread)] += n
        seen = set()
        for frame in frames[1:]:
            name = re.sub(r":\d+\)", ")", frame)
            if name not in seen:
                seen.add(name)
                inclusive[name] += n
        own[re.sub(r":\d+\)", ")", frames[-1])] += n
    print(f"{total} samples")
    print("\nthreads:")
    for name, n in threads.most_common(10):
        print(f"  {100 * n / total:5.1f}%  {name}")
    print("\ninclusive:")
    shown = 0
    for name, n in inclusive.most_common():
        if args.match and args.match not in name:
            continue
        print(f"  {100 * n / total:5.1f}%  {name}")
        shown += 1
        if shown >= args.top:
            break
    print("\nself:")
    for name, n in own.most_common(args.top):
        print(f"  {100 * n / total:5.1f}%  {name}")


if __name__ == "__main__":
    main()
