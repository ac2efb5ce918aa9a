"""Counting the rows a ledger writer has written, for a progress bar.

A writer given a ``progress`` callback passes its rows through :meth:`RowCounter.rows`: the
callback hears the number of rows written so far every :data:`PROGRESS_EVERY` rows, and once
more at the end (:meth:`RowCounter.finish`), so the last number it hears is the whole count.
Work done in a few long steps rather than many rows (the lending report: its figures, then its
sheets) counts them with :class:`Steps`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Final, TypeVar

#: Rows between two progress reports: often enough for a bar, rarely enough to cost nothing.
PROGRESS_EVERY: Final = 250

T = TypeVar("T")

Progress = Callable[[int], None]


class RowCounter:
    """Counts rows across every sheet of one workbook and reports to ``progress`` (if any)."""

    def __init__(self, progress: Progress | None, *, every: int = PROGRESS_EVERY) -> None:
        if every < 1:
            raise ValueError(f"Report every 1 row or more, not {every}.")
        self.progress = progress
        self.every = every
        self.done = 0

    def rows(self, rows: Iterable[T]) -> Iterator[T]:
        """The rows unchanged; each is counted once the writer has taken the next one (or the
        sheet ended), that is, once it is written."""
        for row in rows:
            yield row
            self.done += 1
            if self.progress is not None and self.done % self.every == 0:
                self.progress(self.done)

    def finish(self) -> int:
        """Report the final count; returns it."""
        if self.progress is not None:
            self.progress(self.done)
        return self.done


class Steps:
    """Counts the steps of work done in a few long steps, across the functions that do them,
    and reports the count to ``progress`` (if any) after each."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.done = 0

    def step(self) -> None:
        """One more step done."""
        self.done += 1
        if self.progress is not None:
            self.progress(self.done)
