"""End to end: a small CNN built from convbp.nn learns the 8x8 digits; the example
script's loss curve equals PyTorch's over its first steps."""

import os
import subprocess
import sys

import numpy as np
import pytest

import convbp
from convbp import nn, optim

pytest.importorskip("sklearn")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Subprocesses import the convbp this test imported (the source tree in a dev build,
# site-packages after pip install), not whatever the source tree holds.
CONVBP_PATH = os.path.dirname(os.path.dirname(os.path.abspath(convbp.__file__)))


def test_short_training_run_learns_digits():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)[:, None]
    x_tr, x_te, y_tr, y_te = train_test_split(x, d.target, test_size=0.2, stratify=d.target, random_state=0)
    nn.init.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(32 * 2 * 2, 64), nn.ReLU(), nn.Linear(64, 10))
    loss_fn = nn.CrossEntropyLoss()
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    rng = np.random.default_rng(0)
    losses, epochs = [], 4
    for epoch in range(epochs):
        opt.param_groups[0]["lr"] = 0.05 * 0.5 * (1 + np.cos(np.pi * epoch / epochs))   # cosine decay
        perm = rng.permutation(len(x_tr))
        for i in range(0, len(perm), 32):
            idx = perm[i:i + 32]
            losses.append(float(loss_fn(model(x_tr[idx]), y_tr[idx])))
            opt.zero_grad()
            model.backward(loss_fn.backward())
            opt.step()
    first, last = np.mean(losses[:10]), np.mean(losses[-10:])
    assert first > 2.0                      # ~ln(10) at the start
    assert last < 0.25 * first, (first, last)
    accuracy = (model(x_te).argmax(axis=1) == y_te).mean()
    assert accuracy >= 0.90, accuracy


def test_example_loss_curve_matches_pytorch():
    pytest.importorskip("torch")
    env = dict(os.environ, PYTHONPATH=CONVBP_PATH + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "train_digits.py"), "--epochs", "1",
                        "--compare-torch", "--compare-steps", "30", "--threads", "1", "--no-progress"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "MATCH (rtol" in r.stdout and "MISMATCH" not in r.stdout, r.stdout
