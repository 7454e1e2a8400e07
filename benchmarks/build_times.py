"""Wall-clock times of the three commands users run, measured in this checkout, in one run:

* cold ``make book`` (after ``make clean``: every chapter executed),
* warm ``make book`` (nothing changed: no chapter executed),
* ``make test``.

With ``--determinism`` it also builds cold a second time and compares the two builds: figure files
(``_build/html/_images``) byte for byte, and the text of every chapter page.

Usage: ``.venv/bin/python benchmarks/build_times.py [--determinism]`` from the repository root.
It deletes ``_build`` (the virtual environment is kept).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
BUDGETS = {"cold make book": 300.0, "warm make book": 20.0, "make test": 600.0}


def timed(*cmd: str) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def snapshot() -> tuple[dict[str, str], dict[str, str]]:
    html = ROOT / "_build" / "html"
    images = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((html / "_images").glob("*"))}
    texts = {}
    for page in sorted((html / "book").glob("*.html")):
        if page.stem == "status":  # execution times differ from run to run by design
            continue
        texts[page.name] = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").get_text(" ")
    return images, texts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--determinism", action="store_true", help="also compare two cold builds")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; repository {ROOT}")
    subprocess.run(["make", "clean"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    times = {"cold make book": timed("make", "book")}
    first = snapshot() if args.determinism else None
    times["warm make book"] = timed("make", "book")
    times["make test"] = timed("make", "test")
    print(f"{'command':<16} {'seconds':>9} {'budget':>8}  verdict")
    for name, seconds in times.items():
        verdict = "within budget" if seconds <= BUDGETS[name] else "OVER BUDGET"
        print(f"{name:<16} {seconds:9.1f} {BUDGETS[name]:8.0f}  {verdict}")
    if args.determinism:
        subprocess.run(["make", "clean"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        timed("make", "book")
        images2, texts2 = snapshot()
        images1, texts1 = first
        same_images = images1 == images2
        differing = [name for name in texts1 if texts1[name] != texts2.get(name)]
        print(f"determinism: {len(images1)} figure files {'identical' if same_images else 'DIFFER'}; "
              f"{len(texts1) - len(differing)} of {len(texts1)} chapter pages with identical text"
              + (f" (differ: {differing})" if differing else ""))
        if not same_images or differing:
            return 1
    return 0 if all(t <= BUDGETS[n] for n, t in times.items()) else 1


if __name__ == "__main__":
    sys.exit(main())
