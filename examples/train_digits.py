"""Train a LeNet-style CNN on scikit-learn's 8x8 digits with convbp.nn (offline).

    python examples/train_digits.py                    # convbp only
    python examples/train_digits.py --compare-torch    # also the same network in PyTorch

The PyTorch run starts from the convbp model's initial weights and sees the same
mini-batches in the same order with the same optimizer, so its loss curve should
equal convbp's to float32 rounding over the first steps (rounding differences grow
slowly after that, as in any chaotic iteration). Prints a progress bar per epoch,
the time per epoch of both (epochs of the two alternate, so both see the same
machine), the loss-curve match and the final test accuracy.

Timing note: on a machine busier than its core count, OpenMP threads that spin
while waiting (libgomp's default) slow both frameworks down badly; ``--threads 1``
or ``OMP_WAIT_POLICY=passive`` give steadier epoch times there.
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np

import convbp
from convbp import nn, optim


def load_data(seed: int):
    """Digits as (N, 1, 8, 8) float32 in [0, 1] and int64 labels; a stratified 80/20 split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)[:, None]
    return train_test_split(x, d.target.astype(np.int64), test_size=0.2, stratify=d.target, random_state=seed)


def lenet(layers):
    """The network, from ``layers`` = convbp.nn or torch.nn (same names, same order,
    so the state_dict keys agree)."""
    return layers.Sequential(
        layers.Conv2d(1, 16, 3, padding=1), layers.ReLU(), layers.MaxPool2d(2),     # 16 x 4 x 4
        layers.Conv2d(16, 32, 3, padding=1), layers.ReLU(), layers.MaxPool2d(2),    # 32 x 2 x 2
        layers.Flatten(), layers.Linear(32 * 2 * 2, 64), layers.ReLU(), layers.Linear(64, 10))


class Progress:
    """A text progress bar for an epoch: redrawn in place on a terminal, drawn once,
    full, at the end of the epoch otherwise (so logs stay one line per epoch)."""

    def __init__(self, label: str, total: int, enabled: bool = True, width: int = 30):
        self.label, self.total, self.width = label, total, width
        self.enabled, self.live = enabled, enabled and sys.stdout.isatty()
        self.shown = -1

    def _bar(self, done: int) -> str:
        filled = self.width * done // self.total
        return f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {done}/{self.total}"

    def update(self, done: int, loss: float) -> None:
        filled = self.width * done // self.total
        if self.live and filled != self.shown:      # redraw only when the bar grows
            self.shown = filled
            sys.stdout.write(f"\r{self._bar(done)} loss {loss:.4f}")
            sys.stdout.flush()

    def close(self, text: str) -> None:
        if self.live:
            sys.stdout.write("\r")
        print(f"{self._bar(self.total)} {text}" if self.enabled else f"{self.label} {text}")


def train_convbp(model, batches, x_tr, y_tr, x_te, y_te, args, result):
    """Trains one epoch per next(); fills result["losses", "times", "acc"]."""
    loss_fn = nn.CrossEntropyLoss()
    opt = optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)
    losses, times = [], []
    for epoch, epoch_batches in enumerate(batches, 1):
        for g in opt.param_groups:
            g["lr"] = lr_at(epoch, len(batches), args)
        bar = Progress(f"convbp epoch {epoch:2d}/{len(batches)}", len(epoch_batches), not args.no_progress)
        t0 = time.perf_counter()
        for i, idx in enumerate(epoch_batches, 1):
            loss = loss_fn(model(x_tr[idx]), y_tr[idx])
            opt.zero_grad()
            model.backward(loss_fn.backward())
            opt.step()
            losses.append(float(loss))
            bar.update(i, losses[-1])
        times.append(time.perf_counter() - t0)
        acc = accuracy(model(x_te), y_te)
        bar.close(f"mean loss {np.mean(losses[-len(epoch_batches):]):.4f}  test acc {acc:.2%}  "
                  f"{times[-1]:.2f} s")
        result.update(losses=losses, times=times, acc=acc)
        yield


def train_torch(model, batches, x_tr, y_tr, x_te, y_te, args, result):
    """Trains one epoch per next(); fills result["losses", "times", "acc"]."""
    import torch
    xt, yt, xe = torch.from_numpy(x_tr), torch.from_numpy(y_tr), torch.from_numpy(x_te)
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)
    losses, times = [], []
    for epoch, epoch_batches in enumerate(batches, 1):
        for g in opt.param_groups:
            g["lr"] = lr_at(epoch, len(batches), args)
        bar = Progress(f"torch  epoch {epoch:2d}/{len(batches)}", len(epoch_batches), not args.no_progress)
        t0 = time.perf_counter()
        for i, idx in enumerate(epoch_batches, 1):
            ti = torch.from_numpy(idx)
            loss = loss_fn(model(xt[ti]), yt[ti])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
            bar.update(i, losses[-1])
        times.append(time.perf_counter() - t0)
        with torch.no_grad():
            acc = accuracy(model(xe).numpy(), y_te)
        bar.close(f"mean loss {np.mean(losses[-len(epoch_batches):]):.4f}  test acc {acc:.2%}  "
                  f"{times[-1]:.2f} s")
        result.update(losses=losses, times=times, acc=acc)
        yield


def lr_at(epoch: int, epochs: int, args) -> float:
    """Cosine annealing from args.lr in epoch 1 towards 0 (the last epoch gets a small,
    non-zero rate), the same for both frameworks."""
    return args.lr * 0.5 * (1 + math.cos(math.pi * (epoch - 1) / epochs))


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    return float((logits.argmax(axis=1) == labels).mean())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--seed", type=int, default=0, help="seeds the split, the init and the batch order")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--threads", type=int, default=None, help="convbp (and torch) threads; default: all")
    ap.add_argument("--compare-torch", action="store_true", help="train the same network in PyTorch too")
    ap.add_argument("--compare-steps", type=int, default=50, help="steps over which the loss curves must agree")
    ap.add_argument("--rtol", type=float, default=1e-4, help="loss-curve tolerance (relative)")
    ap.add_argument("--no-progress", action="store_true", help="no progress bars (logs)")
    args = ap.parse_args(argv)

    if args.threads:
        convbp.set_num_threads(args.threads)
    x_tr, x_te, y_tr, y_te = load_data(args.seed)
    rng = np.random.default_rng(args.seed)
    batches = []
    for _ in range(args.epochs):
        perm = rng.permutation(len(x_tr))
        batches.append([perm[i:i + args.batch_size] for i in range(0, len(perm), args.batch_size)])
    print(f"digits: {len(x_tr)} train / {len(x_te)} test images 8x8, {args.epochs} epochs of "
          f"{len(batches[0])} batches, convbp threads {convbp.get_num_threads()}")

    nn.init.manual_seed(args.seed)
    model = lenet(nn)
    model[0].input_grad = False   # the images need no gradient (PyTorch skips it the same way)
    init_state = model.state_dict()
    ours, theirs = {}, {}
    runs = [train_convbp(model, batches, x_tr, y_tr, x_te, y_te, args, ours)]
    if args.compare_torch:
        import torch
        torch.set_num_threads(convbp.get_num_threads())
        tmodel = lenet(torch.nn)
        tmodel.load_state_dict({k: torch.from_numpy(v) for k, v in init_state.items()})
        runs.append(train_torch(tmodel, batches, x_tr, y_tr, x_te, y_te, args, theirs))
    # Epochs alternate between the two frameworks, so a slow spell of a shared
    # machine hits both rather than whichever happened to run then.
    for _ in range(args.epochs):
        for run in runs:
            next(run)
    losses, times, acc = ours["losses"], ours["times"], ours["acc"]
    print(f"convbp: final test accuracy {acc:.2%}; time per epoch median {np.median(times):.3f} s "
          f"(min {np.min(times):.3f} s); total training {np.sum(times):.2f} s")

    if args.compare_torch:
        t_losses, t_times, t_acc = theirs["losses"], theirs["times"], theirs["acc"]
        print(f"torch:  final test accuracy {t_acc:.2%}; time per epoch median {np.median(t_times):.3f} s "
              f"(min {np.min(t_times):.3f} s); total training {np.sum(t_times):.2f} s")
        k = min(args.compare_steps, len(losses))
        a, b = np.array(losses[:k]), np.array(t_losses[:k])
        rel = np.abs(a - b) / np.maximum(np.abs(b), 1e-12)
        ok = bool(np.all(rel <= args.rtol))
        print(f"loss curves, first {k} steps: max |convbp - torch| = {np.abs(a - b).max():.3g}, "
              f"max relative = {rel.max():.3g} -> {'MATCH' if ok else 'MISMATCH'} (rtol {args.rtol:g})")
        a_all, b_all = np.array(losses), np.array(t_losses)
        print(f"loss curves, all {len(a_all)} steps: max relative difference {(np.abs(a_all - b_all) / np.abs(b_all)).max():.3g}")
        print(f"time per epoch (medians): convbp {np.median(times):.3f} s vs torch {np.median(t_times):.3f} s "
              f"(convbp / torch = {np.median(times) / np.median(t_times):.2f})")
        if not ok:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
