"""Cut ragged sequences into right-padded windows for the torch backbones."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._sequences import Sequences

__all__ = ["Windows", "chunk_windows"]


@dataclass
class Windows:
    """Right-padded windows over the positions of some sequences.

    Attributes
    ----------
    items : ndarray of int64 of shape (n_windows, width)
        ``code + 1`` of each item, 0 = padding (the backbones' input convention).
    positions : ndarray of int64 of shape (n_windows, width)
        Index of each cell into ``sequences.codes``; -1 at padding.
    rows : ndarray of int64 of shape (n_windows,)
        Sequence of each window.
    """

    items: np.ndarray
    positions: np.ndarray
    rows: np.ndarray

    def __len__(self) -> int:
        return int(self.rows.size)


def chunk_windows(seqs: Sequences, width: int, *, overlap: int = 0) -> Windows:
    """Cover every position of every sequence with windows of at most ``width`` items.

    Windows are cut from the most recent item backwards, so the last window of each
    sequence ends at its last item and only the oldest window of a long sequence is
    shorter than ``width``. Consecutive windows share ``overlap`` items (use 1 for
    next-item training, so that every transition falls inside one window).
    Vectorised: no loop over sequences.
    """
    if width < 1:
        raise ValueError(f"width must be >= 1, got {width}")
    if not 0 <= overlap < width:
        raise ValueError(f"overlap must be in [0, width), got {overlap}")
    lengths = seqs.lengths
    stride = width - overlap
    # windows per sequence: 1 + ceil(max(0, length - width) / stride)
    n_windows = 1 + np.maximum(0, -(-(lengths - width) // stride))
    n_windows[lengths == 0] = 0
    rows = np.repeat(np.arange(len(seqs), dtype=np.int64), n_windows)
    first_window = np.repeat(np.cumsum(n_windows) - n_windows, n_windows)
    k = np.arange(rows.size, dtype=np.int64) - first_window  # 0 = oldest window
    back = n_windows[rows] - 1 - k  # 0 = most recent window
    end = lengths[rows] - back * stride  # exclusive end, within the sequence
    start = np.maximum(end - width, 0)
    cols = np.arange(width, dtype=np.int64)
    within = start[:, None] + cols[None, :]  # (W, width)
    valid = within < end[:, None]
    positions = np.where(valid, seqs.offsets[rows][:, None] + within, -1)
    items = np.where(valid, seqs.codes[np.maximum(positions, 0)] + 1, 0)
    return Windows(items=items, positions=positions, rows=rows)
