"""Pooling of token states into one vector per text, correct under any padding side.

Every function takes the model's last hidden states ``(batch, seq_len, hidden)`` and the
attention mask ``(batch, seq_len)`` (1 = real token, 0 = padding) and returns
``(batch, hidden)``. None of them assumes where the padding is: decoder LLMs are padded
on the left, encoders on the right, and the mask alone says which tokens are real.
Padding states never enter a result, even when they hold NaN or inf (a padding query
that attends to nothing can produce NaN in some attention kernels).
"""

from __future__ import annotations

import torch

__all__ = ["POOLING_MODES", "cls_pool", "last_token_pool", "mean_pool", "pool"]


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Average of the real tokens' states."""
    real = mask.bool().unsqueeze(-1)  # (B, T, 1)
    summed = torch.where(real, hidden, torch.zeros((), dtype=hidden.dtype)).sum(dim=1)
    count = real.sum(dim=1).clamp(min=1).to(hidden.dtype)  # (B, 1)
    return summed / count  # (B, H)


def _first_real(mask: torch.Tensor) -> torch.Tensor:
    """Index of the first real token of every row (0 for a row with none)."""
    return mask.bool().int().argmax(dim=1)  # (B,)


def _last_real(mask: torch.Tensor) -> torch.Tensor:
    """Index of the last real token of every row, whatever the padding side."""
    seq_len = mask.shape[1]
    return seq_len - 1 - mask.bool().int().flip(dims=[1]).argmax(dim=1)  # (B,)


def cls_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """State of the first real token (``[CLS]`` for BERT-like encoders)."""
    rows = torch.arange(hidden.shape[0], device=hidden.device)
    return hidden[rows, _first_real(mask).to(hidden.device)]  # (B, H)


def last_token_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """State of the last real token (the usual pooling of decoder LLM embedders)."""
    rows = torch.arange(hidden.shape[0], device=hidden.device)
    return hidden[rows, _last_real(mask).to(hidden.device)]  # (B, H)


POOLING_MODES = {"mean": mean_pool, "cls": cls_pool, "last": last_token_pool}


def pool(hidden: torch.Tensor, mask: torch.Tensor, mode: str) -> torch.Tensor:
    """Pool with ``mode`` in ``{"mean", "cls", "last"}``."""
    try:
        function = POOLING_MODES[mode]
    except KeyError:
        raise ValueError(
            f"unknown pooling {mode!r}; choose one of {sorted(POOLING_MODES)}"
        ) from None
    return function(hidden, mask)
