"""The order of the gallery examples (imported by name, so Sphinx can pickle it)."""

from __future__ import annotations

import os

#: the order in which a reader meets the examples
EXAMPLE_ORDER = [
    "plot_quickstart.py",
    "plot_grid_search.py",
    "plot_noise_scores.py",
    "plot_own_language_model.py",
    "plot_own_backbone.py",
    "plot_export_recbole.py",
]


def example_rank(filename: str) -> tuple[int, str]:
    """Sort key of an example file: its place in ``EXAMPLE_ORDER``, new ones last."""
    name = os.path.basename(filename)
    rank = EXAMPLE_ORDER.index(name) if name in EXAMPLE_ORDER else len(EXAMPLE_ORDER)
    return rank, name
