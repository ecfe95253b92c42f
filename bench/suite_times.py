"""Per-file wall time of two test-suite runs, from pytest's JUnit XML, as a Markdown table.

    python bench/suite_times.py BEFORE.xml AFTER.xml

Each test's time is what pytest measured for it (setup, call and teardown); under pytest-xdist the
files' times add up to more than the run's wall time, since two workers run at once.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections import Counter


def per_file(path: str) -> tuple[Counter, Counter, float]:
    seconds, counts = Counter(), Counter()
    root = ET.parse(path).getroot()
    for case in root.iter("testcase"):
        name = case.get("classname", "").split(".")[-1] or "?"
        seconds[name] += float(case.get("time", 0))
        counts[name] += 1
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    return seconds, counts, float(suite.get("time", 0))


def main(before_xml: str, after_xml: str) -> None:
    before, before_n, before_wall = per_file(before_xml)
    after, after_n, after_wall = per_file(after_xml)
    print("| file | tests before | s before | tests after | s after |")
    print("|---|---:|---:|---:|---:|")
    for name in sorted(set(before) | set(after), key=lambda n: -before.get(n, 0)):
        print(f"| {name} | {before_n[name]} | {before[name]:.1f} | {after_n[name]} | {after[name]:.1f} |")
    print(
        f"| **sum of tests** | {sum(before_n.values())} | {sum(before.values()):.0f} | {sum(after_n.values())} | "
        f"{sum(after.values()):.0f} |"
    )
    print(f"| **wall time of the run** | | {before_wall:.0f} | | {after_wall:.0f} |")


if __name__ == "__main__":
    main(*sys.argv[1:3])
