"""Peak extra memory of one call, convbp against PyTorch, at growing batch sizes.

    python benchmarks/peak_memory.py [--layers resnet.l1.3x3,vgg11.c3] [--batches 1,8,32]

Extra memory = the process's peak resident set during the call (VmHWM, reset before
the call through /proc/self/clear_refs, Linux only) minus the resident set before it,
minus the bytes of the result itself. It counts the workspace a call allocates and
touches (im2col tiles, packed panels, per-thread partial sums), including workspace a
library keeps for later calls. The inputs are created and touched before the
measurement, the libraries warmed up on a tiny layer (1 channel in and out, so its workspace is
negligible); each (implementation, layer,
pass, batch) runs in a fresh process so one's cached memory cannot hide another's.
One thread (the per-thread workspace grows with the thread count, not the batch).
"""

import argparse
import dataclasses
import json
import os
import subprocess
import sys


def _status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(field)


def _child(impl, layer_name, pass_, batch):
    import numpy as np
    import convbp
    from convbp.bench import suites
    from convbp.bench.baselines import PREPARE, make_case

    layer = {L.name: L for L in suites.get("latency").layers}[layer_name]
    case = make_case(layer, batch, pass_, "float32", 0)
    if impl == "torch":
        import torch
        torch.set_num_threads(1)
    convbp.set_num_threads(1)
    # Warm up on a tiny layer of the same kind, so the libraries' one-time start-up
    # (thread pools, dispatch tables) is not counted, but the real call's workspace is,
    # even where a library keeps it cached for the next call.
    tiny = dataclasses.replace(layer, in_shape=(1,) + (12,) * layer.dims, out=1, groups=1)
    PREPARE[impl](make_case(tiny, 1, pass_, "float32", 0))[0]()
    run = PREPARE[impl](case)[0]
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = _status("VmRSS")
    out = run()
    peak = _status("VmHWM")
    nbytes = out.numel() * out.element_size() if hasattr(out, "element_size") else np.asarray(out).nbytes
    print(json.dumps({"extra": peak - before - nbytes, "out": nbytes}))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layers", default="resnet.l1.3x3,resnet.stem,vgg11.c3")
    ap.add_argument("--batches", default="1,8,32")
    ap.add_argument("--passes", default="fwd,bwd_data,bwd_weight")
    ap.add_argument("--impls", default="convbp,torch")
    args = ap.parse_args()
    print(f"{'layer':16s} {'pass':10s} {'batch':>5s} " + " ".join(f"{i + ' MB':>10s}" for i in args.impls.split(",")))
    for layer in args.layers.split(","):
        for pass_ in args.passes.split(","):
            for batch in args.batches.split(","):
                cells = []
                for impl in args.impls.split(","):
                    # A fixed mmap threshold: every large block is fresh pages, so memory that
                    # glibc kept from freed temporaries cannot hide a workspace.
                    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536")
                    r = subprocess.run([sys.executable, __file__, "--child", impl, layer, pass_, batch],
                                       capture_output=True, text=True, env=env)
                    if r.returncode:
                        cells.append("error")
                        print(r.stderr[-500:], file=sys.stderr)
                    else:
                        cells.append(f"{json.loads(r.stdout.strip().splitlines()[-1])['extra'] / 2**20:.1f}")
                print(f"{layer:16s} {pass_:10s} {batch:>5s} " + " ".join(f"{c:>10s}" for c in cells), flush=True)


if __name__ == "__main__":
    main()
