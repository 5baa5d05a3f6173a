"""``--plot FILE.png``: convbp's speedup over each baseline, per layer and pass
(matplotlib, the optional ``plot`` extra)."""

from __future__ import annotations

from typing import List, Sequence

from .baselines import PASSES
from .report import speedup


def require_matplotlib():
    """Import matplotlib (Agg backend) or raise ImportError saying how to install it."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError("--plot needs matplotlib: pip install matplotlib "
                          "(or install convbp with the extra: pip install 'convbp[plot]')") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot_speedups(records: List[dict], impls: Sequence[str], path: str) -> None:
    """One panel per (baseline, thread count): grouped bars of speedup per layer, one bar
    per pass, on a log axis with a line at 1 (above it convbp is faster)."""
    plt = require_matplotlib()
    others = [i for i in impls if i != "convbp"]
    threads = sorted({r["threads"] for r in records})
    layers = list(dict.fromkeys(r["layer"] for r in records))
    passes = [p for p in PASSES if any(r["pass"] == p for r in records)]
    if not others:
        raise ValueError("--plot needs at least one baseline in --against")
    idx = {(r["layer"], r["pass"], r["impl"], r["threads"]): r for r in records}
    fig, axes = plt.subplots(len(others) * len(threads), 1, squeeze=False,
                             figsize=(max(8, 0.45 * len(layers) * len(passes) / 2 + 3),
                                      3.6 * len(others) * len(threads)))
    width = 0.8 / len(passes)
    for row, (other, t) in enumerate((o, t) for o in others for t in threads):
        ax = axes[row][0]
        for j, p in enumerate(passes):
            ys = [speedup(idx.get((L, p, "convbp", t)), idx.get((L, p, other, t))) for L in layers]
            ax.bar([i + (j - (len(passes) - 1) / 2) * width for i in range(len(layers))], ys, width, label=p)
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_yscale("log")
        ax.set_ylabel(f"speedup over {other}")
        ax.set_title(f"convbp vs {other}, threads={t} (>1: convbp faster)")
        ax.set_xticks(range(len(layers)))
        ax.set_xticklabels(layers, rotation=60, ha="right", fontsize=8)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
