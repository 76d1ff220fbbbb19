"""Run the benchmarks and write benchmarks/RESULTS.md: ``python benchmarks/run.py [names]``.

Each ``bench_*.py`` beside this file defines ``TITLE`` and ``run(threads, repeat) -> (rows, notes)``.
OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, which some machines set and which slow NumPy's BLAS, are
unset for this command only (the process re-executes itself without them).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

if any(k in os.environ for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")):
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    os.execve(sys.executable, [sys.executable, *sys.argv], env)

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import common  # noqa: E402


def available() -> list[str]:
    return sorted(p.stem[len("bench_"):] for p in HERE.glob("bench_*.py"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"benchmarks (default: all of {available()})")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--malloc", choices=["pinned", "default"], default="pinned",
                        help="pin glibc's malloc thresholds for both sides (default) or leave them adaptive")
    args = parser.parse_args(argv)
    if args.malloc == "pinned":
        common.pin_malloc()
    names = args.names or available()
    unknown = set(names) - set(available())
    if unknown:
        parser.error(f"unknown benchmarks {sorted(unknown)}; available: {available()}")
    for name in names:
        module = importlib.import_module(f"bench_{name}")
        print(f"== {name}: {module.TITLE}", flush=True)
        rows, notes = module.run(args.threads, args.repeat)
        for row in rows:
            print("   " + ", ".join(f"{k}={common._fmt(v)}" for k, v in row.items()), flush=True)
        if not args.no_write:
            common.save(name, module.TITLE, rows, notes)
    if not args.no_write:
        common.RESULTS_MD.write_text(common.render_results())
        print(f"wrote {common.RESULTS_MD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
