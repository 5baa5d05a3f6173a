"""``python -m convbp check|bench|config``."""

from __future__ import annotations

import sys

USAGE = """usage: python -m convbp COMMAND [options]

commands:
  check    run every pass of the compiled kernels against the NumPy reference
  bench    time convbp against NumPy and PyTorch on real network layers
  config   print version, compiler, OpenMP, ISA and threads
"""


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "check":
        from ._check import main as run
    elif cmd == "bench":
        from .bench.cli import main as run
    elif cmd == "config":
        from ._runtime import show_config
        show_config()
        return 0
    else:
        print(f"unknown command {cmd!r}\n\n{USAGE}", file=sys.stderr)
        return 2
    return run(rest)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # `python -m convbp check | head`: the reader left; not an error of ours
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
