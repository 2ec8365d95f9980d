"""Caser: horizontal and vertical convolutions over the last L items (Tang & Wang, 2018)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ._layers import Dropout, SequentialBackbone, padding_mask

__all__ = ["Caser"]


class Caser(SequentialBackbone):
    """Convolutional sequence embedding, with a state at every position.

    Caser reads the ``window`` most recent items as an ``L x d`` "image": horizontal
    filters of every height ``h = 1 .. L`` (ReLU, max-pooled over the window) catch
    union-level patterns, vertical filters (``L x 1``, a weighted sum of the rows)
    catch point-level ones; both are concatenated, dropped out and mapped to the state
    by a linear layer with ReLU.

    Here the window slides: the state at column ``t`` comes from the items
    ``t - L + 1 .. t`` (zeros before the start of the history), so Caser yields
    ``(B, T, H)`` like the other backbones and is causal. Horizontal convolutions run
    once over the whole sequence and a sliding max-pool of width ``L - h + 1`` restricts
    them to each window; vertical filters read the windows through ``unfold``.

    Parameters
    ----------
    n_items : int
        Catalog size (without padding).
    hidden_size : int, default=64
        Embedding width ``d`` and state width.
    window : int, default=5
        ``L``, the number of recent items each state reads.
    n_horizontal : int, default=16
        Horizontal filters per height.
    n_vertical : int, default=4
        Vertical filters.
    dropout : float, default=0.4
        On the concatenated convolution features.
    generator : torch.Generator, optional
        Source of the initial weights; the global RNG when omitted.

    Notes
    -----
    The original model adds a user embedding to the final layer; it is left out here so
    that the backbone serves histories of users never seen in training. Items are
    scored against the input item table (tied embeddings).

    References
    ----------
    J. Tang and K. Wang. Personalized Top-N Sequential Recommendation via Convolutional
    Sequence Embedding. WSDM 2018.
    """

    def __init__(
        self,
        n_items: int,
        hidden_size: int = 64,
        window: int = 5,
        n_horizontal: int = 16,
        n_vertical: int = 4,
        dropout: float = 0.4,
        generator: torch.Generator | None = None,
    ):
        super().__init__(n_items, hidden_size)
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        self.window = window
        self.horizontal = nn.ModuleList(
            nn.Conv1d(hidden_size, n_horizontal, kernel_size=height)
            for height in range(1, window + 1)
        )
        self.vertical = nn.Linear(window, n_vertical)
        self.dropout = Dropout(dropout)
        self.fc = nn.Linear(window * n_horizontal + n_vertical * hidden_size, hidden_size)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Draw new initial weights.

        N(0, 1 / H) item table (zero padding row), Xavier-normal filters and output
        layer, zero biases.

        Parameters
        ----------
        generator : torch.Generator, optional
            Source of the random weights; the global RNG when omitted.
        """
        nn.init.normal_(
            self.item_embedding.weight, 0.0, 1.0 / self.hidden_size, generator=generator
        )
        with torch.no_grad():
            self.item_embedding.weight[0].zero_()
        for layer in [*self.horizontal, self.vertical, self.fc]:
            nn.init.xavier_normal_(layer.weight, generator=generator)
            nn.init.zeros_(layer.bias)

    def forward(self, items: torch.Tensor) -> torch.Tensor:
        """State of every position from the ``window`` items ending there.

        Parameters
        ----------
        items : LongTensor of shape (B, T)
            Right-padded item indices: 0 is padding, item code ``c`` is ``c + 1``.

        Returns
        -------
        Tensor of shape (B, T, H)
            Causal states, zero at padding positions.
        """
        B, T = items.shape
        L = self.window
        mask = padding_mask(items)  # (B, T, 1)
        x = self.embed_items(items).transpose(1, 2)  # (B, H, T)
        x = F.pad(x, (L - 1, 0))  # (B, H, T + L - 1): zeros before the history
        horizontal = [
            F.max_pool1d(F.relu(conv(x)), kernel_size=L - height + 1, stride=1)
            for height, conv in enumerate(self.horizontal, start=1)
        ]  # each (B, n_horizontal, T)
        horizontal = torch.cat(horizontal, dim=1).transpose(1, 2)  # (B, T, L * n_h)
        windows = x.unfold(2, L, 1)  # (B, H, T, L): window of column t ends at t
        vertical = self.vertical(windows).permute(0, 2, 3, 1)  # (B, T, n_v, H)
        features = torch.cat([vertical.reshape(B, T, -1), horizontal], dim=-1)
        features = self.dropout(features)  # (B, T, n_v * H + L * n_h)
        return F.relu(self.fc(features)) * mask  # (B, T, H)
