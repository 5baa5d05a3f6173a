"""The text report of a benchmark run: one table per thread count (ms, GFLOP/s and % of
the measured FP32 peak per implementation, convbp's speedup over each baseline), then
per-pass geometric means. Works on the JSON records ``cli.run`` produces."""

from __future__ import annotations

import math
from typing import Dict, List, Sequence

from .baselines import PASSES


def _geomean(values) -> float:
    values = [v for v in values if v and v > 0 and math.isfinite(v)]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def _by_key(records, threads) -> Dict[tuple, Dict[str, dict]]:
    rows: Dict[tuple, Dict[str, dict]] = {}
    for r in records:
        if r["threads"] == threads:
            rows.setdefault((r["layer"], r["pass"]), {})[r["impl"]] = r
    return rows


def _cell(r) -> str:
    if r is None:
        return f"{'-':>9} {'-':>7} {'-':>5}"
    if r["status"] == "ok":
        ms = r["median_s"] * 1e3
        return f"{ms:9.3f} {r['gflops']:7.1f} {r['pct_peak']:5.1f}" if ms < 1e3 else \
               f"{ms:9.0f} {r['gflops']:7.1f} {r['pct_peak']:5.1f}"
    if r["status"] == "mismatch":
        return f"{'MISMATCH err=' + format(r['max_rel_err'], '.1e'):>23}"
    return f"{r['status'][:23]:>23}"


def speedup(conv: dict, other: dict) -> float:
    """other's median time / convbp's (> 1: convbp is faster); nan unless both were timed."""
    if conv is None or other is None or conv["status"] != "ok" or other["status"] != "ok":
        return float("nan")
    return other["median_s"] / conv["median_s"]


def _x(v: float) -> str:
    return f"{v:7.2f}x" if math.isfinite(v) else f"{'-':>8}"


def table(records: List[dict], impls: Sequence[str], threads: int) -> str:
    rows = _by_key(records, threads)
    if not rows:
        return ""
    any_r = next(iter(next(iter(rows.values())).values()))
    others = [i for i in impls if i != "convbp"]
    lw = max(len("layer"), *(len(k[0]) for k in rows))
    head1 = " " * (lw + 12) + "".join(f"{i:^24}" for i in impls) + ("   speedup of convbp" if others else "")
    head2 = (f"{'layer':<{lw}} {'pass':<10} " + "".join(f"{'ms':>9} {'GF/s':>7} {'%pk':>5} " for _ in impls)
             + "".join(f"{'/' + o:>9}" for o in others))
    out = [f"threads={threads}  dtype={any_r['dtype']}  batch={any_r['batch']}  "
           f"FP32 peak {any_r['peak_gflops']:.1f} GFLOP/s (best measured)", head1, head2, "-" * len(head2)]
    for (layer, pass_), r in rows.items():
        line = f"{layer:<{lw}} {pass_:<10} " + "".join(_cell(r.get(i)) + " " for i in impls)
        line += "".join(f"{_x(speedup(r.get('convbp'), r.get(o))):>9}" for o in others)
        out.append(line.rstrip())
    return "\n".join(out)


def geomeans(records: List[dict], impls: Sequence[str], threads: int) -> str:
    rows = _by_key(records, threads)
    others = [i for i in impls if i != "convbp"]
    head = f"{'geometric mean':<14} " + "".join(f"{i + ' GF/s':>13}" for i in impls) + \
           "".join(f"{'/' + o:>9}" for o in others)
    out = [head, "-" * len(head)]
    passes = [p for p in PASSES if any(k[1] == p for k in rows)]
    for label, keep in [(p, (p,)) for p in passes] + [("all", tuple(passes))]:
        sel = [r for k, r in rows.items() if k[1] in keep]
        gf = [_geomean([r[i]["gflops"] for r in sel if i in r and r[i]["status"] == "ok"]) for i in impls]
        sp = [_geomean([speedup(r.get("convbp"), r.get(o)) for r in sel]) for o in others]
        out.append(f"{label:<14} " + "".join(f"{g:13.1f}" for g in gf) + "".join(_x(s).rjust(9) for s in sp))
    return "\n".join(out)
