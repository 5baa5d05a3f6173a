"""A convbp-patched model under DistributedDataParallel (gloo, 2 processes on
loopback) reaches the weights one process reaches on the full batch."""

import os
import subprocess
import sys

import numpy as np
import pytest

import convbp

torch = pytest.importorskip("torch")
import torch.distributed as dist  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
# Subprocesses import the convbp this test imported (the source tree in a dev build,
# site-packages after pip install), not whatever the source tree holds.
CONVBP_PATH = os.path.dirname(os.path.dirname(os.path.abspath(convbp.__file__)))
TIMEOUT_S = 240

pytestmark = pytest.mark.skipif(not (dist.is_available() and dist.is_gloo_available()),
                                reason="torch.distributed with gloo is not available")


def _start(rank, world, rendezvous, out):
    env = dict(os.environ, PYTHONPATH=CONVBP_PATH + os.pathsep + os.environ.get("PYTHONPATH", ""),
               GLOO_SOCKET_IFNAME="lo", OMP_NUM_THREADS="1")
    cmd = [sys.executable, os.path.join(HERE, "ddp_worker.py"), "--rank", str(rank),
           "--world-size", str(world), "--rendezvous", str(rendezvous), "--out", str(out)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_ddp_two_processes_match_one_process(tmp_path):
    rdzv = tmp_path / "rendezvous"  # a file store: no port chosen in advance that another process could take
    outs = [tmp_path / f"rank{r}.npz" for r in range(2)] + [tmp_path / "single.npz"]
    procs = [_start(0, 2, rdzv, outs[0]), _start(1, 2, rdzv, outs[1]), _start(0, 1, "", outs[2])]
    try:
        logs = [p.communicate(timeout=TIMEOUT_S)[0] for p in procs]
    finally:
        for p in procs:            # bounded: never leave a worker behind
            if p.poll() is None:
                p.kill()
                p.wait()
    for p, log in zip(procs, logs):
        assert p.returncode == 0, log
    r0, r1, single = (np.load(o) for o in outs)
    names = [k for k in single.files if not k.startswith("init.")]
    assert names == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    for k in names:
        assert not np.allclose(single[k], single["init." + k]), f"{k} did not train"
        np.testing.assert_array_equal(r0["init." + k], single["init." + k])
        np.testing.assert_allclose(r0[k], r1[k], rtol=1e-6, atol=1e-7, err_msg=f"ranks disagree on {k}")
        np.testing.assert_allclose(r0[k], single[k], rtol=1e-5, atol=1e-6, err_msg=f"DDP vs single on {k}")
