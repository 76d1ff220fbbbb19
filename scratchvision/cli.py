"""The ``scratchvision`` command line: ``scratchvision <command> --help`` for each command."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys


def _size(text):
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 320x240 (width x height), got {text!r}") from None
    return h, w


def _cmd_demo(args):
    from .demo import run_demo

    result = run_demo(args.out, n_frames=args.frames, size=args.size, n_objects=args.objects,
                      seed=args.seed)
    print("\n".join(result["summary"]))
    print(f"\noutputs ({len(result['files'])} files) in: {result['out_dir']}")
    return 0


def _cmd_flow(args):
    import numpy as np

    from .flow import angular_error, endpoint_error, valid_flow_mask
    from .io import read_flo
    from .viz import flow_to_color

    flow = read_flo(args.flow)
    known = valid_flow_mask(flow)
    mag = np.hypot(flow[..., 0], flow[..., 1])[known]
    print(f"{args.flow}: {flow.shape[1]}x{flow.shape[0]}, known {known.mean():.1%}, "
          f"magnitude mean {mag.mean() if mag.size else float('nan'):.3f} max {mag.max() if mag.size else float('nan'):.3f} px")
    if args.gt:
        gt = read_flo(args.gt)
        print(f"against {args.gt}: EPE {endpoint_error(np.where(known[..., None], flow, 0), gt):.4f} px, "
              f"AE {angular_error(np.where(known[..., None], flow, 0), gt):.3f} deg")
    if args.color:
        import imageio.v3 as iio

        iio.imwrite(args.color, flow_to_color(flow, max_flow=args.max_flow))
        print(f"colour image: {os.path.abspath(args.color)}")
    return 0


def _cmd_warmup(args):
    from .cache import cache_info, clear_cache, warmup

    if args.clear:
        print(f"removed {clear_cache()} cached files")
    times = warmup(verbose=True)
    info = cache_info()
    print(f"warm-up: {sum(times.values()):.2f} s for {len(times)} modules; cache: {info['files']} files, "
          f"{info['bytes'] / 1e6:.1f} MB in {info['cache_dir']}")
    return 0


def _find_benchmarks(explicit):
    candidates = [explicit] if explicit else [
        os.path.join(os.getcwd(), "benchmarks"),
        os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"),
    ]
    for c in candidates:
        if c and os.path.isfile(os.path.join(c, "run.py")):
            return c
    raise SystemExit("scratchvision bench: no benchmarks/run.py found; run it from a source checkout "
                     "or pass --dir path/to/benchmarks")


def _cmd_bench(args):
    bench_dir = _find_benchmarks(args.dir)
    cmd = [sys.executable, os.path.join(bench_dir, "run.py"), *args.names,
           "--threads", *map(str, args.threads), "--repeat", str(args.repeat)]
    if args.no_write:
        cmd.append("--no-write")
    return subprocess.call(cmd)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scratchvision", description=__doc__.splitlines()[0])
    from . import __version__

    parser.add_argument("--version", action="version", version=f"scratchvision {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("demo", help="run the main job on the built-in synthetic sequence",
                       description="Render the synthetic sequence with ground truth, run every "
                                   "available algorithm on it, write images/GIFs and summary.txt "
                                   "(accuracy against the ground truth) into OUT and print where.")
    p.add_argument("--out", default="scratchvision-demo", help="output folder (default: %(default)s)")
    p.add_argument("--frames", type=int, default=40, help="number of frames (default: %(default)s)")
    p.add_argument("--size", type=_size, default=(240, 320), help="WIDTHxHEIGHT (default: 320x240)")
    p.add_argument("--objects", type=int, default=6, help="number of objects (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("flow", help="inspect a .flo flow file: statistics, error against ground truth, colour image",
                       description="Read a Middlebury .flo file, print its size and magnitudes, "
                                   "optionally its endpoint/angular error against a ground-truth "
                                   ".flo, and write its Middlebury colour-wheel image.")
    p.add_argument("flow", help="the .flo file")
    p.add_argument("--gt", help="ground-truth .flo to compare against")
    p.add_argument("--color", help="write the colour-coded flow to this PNG")
    p.add_argument("--max-flow", type=float, default=None, help="magnitude of full saturation")
    p.set_defaults(func=_cmd_flow)

    p = sub.add_parser("warmup", help="compile every kernel into Numba's on-disk cache",
                       description="Compile the standard signatures of every kernel (honours "
                                   "NUMBA_CACHE_DIR) and report the time and the cache size.")
    p.add_argument("--clear", action="store_true", help="delete the cached kernels first")
    p.set_defaults(func=_cmd_warmup)

    p = sub.add_parser("bench", help="run the benchmarks against the references, write benchmarks/RESULTS.md",
                       description="Run benchmarks/run.py: ours and the reference in one process, "
                                   "same inputs and thread count, median of repeated runs after "
                                   "warm-up; compile time reported separately.")
    p.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts (default: 1 2)")
    p.add_argument("--repeat", type=int, default=9, help="timed runs per measurement (default: %(default)s)")
    p.add_argument("--dir", help="the benchmarks folder (default: ./benchmarks or the source checkout's)")
    p.add_argument("--no-write", action="store_true", help="print only, do not update RESULTS.md")
    p.set_defaults(func=_cmd_bench)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, FileNotFoundError) as exc:
        print(f"scratchvision {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
