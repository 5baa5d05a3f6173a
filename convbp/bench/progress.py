"""A one-line progress bar on stderr (no dependencies; drawn only on a terminal)."""

from __future__ import annotations

import shutil
import sys
import time


class Progress:
    """``Progress(total)``; ``step(label)`` before each unit of work; ``close()`` at the end."""

    def __init__(self, total: int, stream=None, enabled=None):
        self.total, self.done = max(total, 1), 0
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.t0 = time.monotonic()

    def step(self, label: str) -> None:
        """Draw the bar with ``label`` as the current task, then count it done."""
        self._draw(label)
        self.done += 1

    def _draw(self, label: str) -> None:
        if not self.enabled:
            return
        width = shutil.get_terminal_size((100, 20)).columns
        frac = self.done / self.total
        elapsed = time.monotonic() - self.t0
        eta = f" eta {elapsed / frac * (1 - frac):4.0f}s" if self.done else ""
        bar_w = 24
        fill = int(frac * bar_w)
        head = f"[{'#' * fill}{'.' * (bar_w - fill)}] {self.done}/{self.total} {elapsed:4.0f}s{eta} "
        line = (head + label)[: width - 1]
        self.stream.write("\r" + line.ljust(width - 1))
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            width = shutil.get_terminal_size((100, 20)).columns
            self.stream.write("\r" + " " * (width - 1) + "\r")
            self.stream.flush()
