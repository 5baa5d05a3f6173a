"""One process of tests/test_ddp.py: train a tiny convbp-patched CNN with SGD.

world_size 1: plain training on the full batch. world_size > 1: this process is
rank ``--rank`` of a gloo group that meets through the file ``--rendezvous`` (a file
store: no TCP port is picked in advance, so concurrent test runs cannot collide); it trains the
DistributedDataParallel model on its contiguous share of the batch. DDP averages
the ranks' gradients of their mean losses, which equals the gradient of the mean
loss over the full batch, so every setting should end at the same weights.
Writes the final parameters (and the initial ones) to ``--out`` (.npz).
"""

import argparse
import datetime
import os
import sys

import numpy as np
import torch
import torch.distributed as dist

import convbp
import convbp.torch

BATCH, STEPS = 16, 6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rank", type=int, default=0)
    ap.add_argument("--world-size", type=int, default=1)
    ap.add_argument("--rendezvous", default="")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    torch.set_num_threads(1)
    convbp.set_num_threads(1)

    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.standard_normal((BATCH, 1, 6, 6)).astype(np.float32))
    y = torch.from_numpy(rng.integers(0, 3, BATCH))
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(),
                                torch.nn.Conv2d(4, 4, 3, stride=2), torch.nn.Flatten(),
                                torch.nn.Linear(4 * 2 * 2, 3))
    convbp.torch.patch(model)
    init = {f"init.{k}": v.detach().numpy().copy() for k, v in model.state_dict().items()}

    if a.world_size > 1:
        dist.init_process_group("gloo", init_method=f"file://{a.rendezvous}", rank=a.rank,
                                world_size=a.world_size, timeout=datetime.timedelta(seconds=60))
        share = BATCH // a.world_size
        x, y = x[a.rank * share:(a.rank + 1) * share], y[a.rank * share:(a.rank + 1) * share]
        net = torch.nn.parallel.DistributedDataParallel(model)
    else:
        net = model
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    for _ in range(STEPS):
        opt.zero_grad()
        loss_fn(net(x), y).backward()
        opt.step()
    final = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    np.savez(a.out, **final, **init)
    if a.world_size > 1:
        # Both ranks reach here before either tears its connections down: without the
        # barrier a rank that destroyed its group first once made the other's gloo
        # thread abort ("terminate called without an active exception", exit -6).
        # With the barrier and destroy_process_group that still happened in about 1
        # run in 30 (a gloo thread object destroyed while joinable at teardown). The
        # results are saved; so leave without running the C++ destructors at all.
        dist.barrier()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


if __name__ == "__main__":
    main()
