"""Worker process for ``python -m convbp bench --isolate`` (started by timing.Isolated): times one implementation in a
process of its own, so its thread pools and allocations never meet another library's.

Protocol: one JSON object per line on stdin, one reply per line on the original stdout
(everything else the libraries print goes to stderr):
    {"op": "hello"}                                              -> {"ok": true}
    {"op": "setup", "layer": {...}, "batch", "pass", "dtype", "seed"} -> {"ok": true}
    {"op": "time"}                                               -> {"seconds": float}
    {"op": "quit"}                                               -> (exits)
The parent checks results against convbp itself before timing; a worker only times.
"""

from __future__ import annotations

import json
import os
import sys


def main(argv) -> int:
    impl, threads = argv[0], int(argv[1])
    # Keep the protocol stream clean: fd 1 becomes stderr, replies go to a duplicate of it.
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    from .baselines import PREPARE, make_case
    from .suites import Layer
    from .timing import pin_threads, time_call

    if impl == "torch":
        import torch  # noqa: F401  (imported before pinning so its pool is pinned too)
    pin_threads(threads)
    run = None
    for line in sys.stdin:
        msg = json.loads(line)
        try:
            op = msg["op"]
            if op == "quit":
                break
            if op == "hello":
                reply = {"ok": True}
            elif op == "setup":
                d = {k: tuple(v) if isinstance(v, list) else v for k, v in msg["layer"].items()}
                case = make_case(Layer(**d), msg["batch"], msg["pass"], msg["dtype"], msg["seed"])
                run = PREPARE[impl](case)[0]
                reply = {"ok": True}
            elif op == "time":
                reply = {"seconds": time_call(run)}
            else:
                reply = {"error": f"unknown op {op!r}"}
        except Exception as e:  # reported to the parent, which raises it
            reply = {"error": f"{type(e).__name__}: {e}"}
        proto.write(json.dumps(reply) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
