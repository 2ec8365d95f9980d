"""FMLP-Rec: learnable filters instead of attention (Zhou et al., WWW 2022), made causal."""

from __future__ import annotations

import torch
from torch import nn

from ._layers import (
    Dropout,
    FeedForward,
    SequentialBackbone,
    check_width,
    init_normal_,
    padding_mask,
)

__all__ = ["FMLPRec"]


class CausalFilter(nn.Module):
    """A learnable per-channel filter applied as a causal convolution via the FFT.

    ``y[t] = sum_{s <= t} kernel[t - s] * x[s]`` for every channel. The original
    FMLP-Rec multiplies the sequence's FFT by a learned complex spectrum, which is a
    *circular* convolution: every position sees the whole sequence, future items and
    padding included, so its per-position next-item training leaks the targets. Here
    the filter is learned in the time domain, restricted to non-negative lags, and
    applied as a linear (zero-padded, length ``2T``) FFT convolution: the same
    ``O(T log T)`` global filtering, but causal.
    """

    def __init__(self, hidden_size: int, max_len: int):
        super().__init__()
        self.kernel = nn.Parameter(torch.empty(max_len, hidden_size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        T = x.size(1)
        n_fft = 2 * T
        # cuFFT/pocketfft have no bf16 kernels: filter in float32 under autocast
        signal = torch.fft.rfft(x.float(), n=n_fft, dim=1)  # (B, T + 1, H) complex
        response = torch.fft.rfft(self.kernel[:T].float(), n=n_fft, dim=0)  # (T + 1, H)
        y = torch.fft.irfft(signal * response, n=n_fft, dim=1)[:, :T]  # (B, T, H)
        return y.to(x.dtype)


class FMLPBlock(nn.Module):
    """Filter -> dropout -> add & norm -> feed-forward -> dropout -> add & norm."""

    def __init__(self, hidden_size: int, max_len: int, dropout: float):
        super().__init__()
        self.filter = CausalFilter(hidden_size, max_len)
        self.filter_dropout = Dropout(dropout)
        self.filter_norm = nn.LayerNorm(hidden_size, eps=1e-12)
        self.feed_forward = FeedForward(hidden_size, 4 * hidden_size, dropout, act="gelu")
        self.feed_forward_norm = nn.LayerNorm(hidden_size, eps=1e-12)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.filter_norm(x + self.filter_dropout(self.filter(x)))  # (B, T, H)
        return self.feed_forward_norm(x + self.feed_forward(x))  # (B, T, H)


class FMLPRec(SequentialBackbone):
    """Filter-enhanced MLP for sequential recommendation, with causal filters.

    Item plus learned position embeddings, layer norm and dropout, then ``n_layers``
    blocks of a learnable global filter and a feed-forward network (GELU, inner width
    ``4 H``), each with a residual connection and layer norm.

    Parameters
    ----------
    n_items : int
        Catalog size (without padding).
    hidden_size : int, default=64
    max_len : int, default=50
        Number of positions and filter taps (the widest input accepted).
    n_layers : int, default=2
        Filter blocks.
    dropout : float, default=0.5
        On the embeddings, filter outputs and feed-forward layers.
    generator : torch.Generator, optional
        Source of the initial weights (N(0, 0.02), filters included); the global RNG
        when omitted.

    Notes
    -----
    **Causal variant.** See :class:`CausalFilter`: the published model filters in the
    frequency domain over the whole (padded) window, so a position's state depends on
    later items and on padding. Training every position to predict its next item, as
    the estimators here do, needs causal states; the learned filter is therefore a
    time-domain kernel over past positions, applied by FFT.

    References
    ----------
    K. Zhou, H. Yu, W. X. Zhao and J.-R. Wen. Filter-enhanced MLP is All You Need for
    Sequential Recommendation. WWW 2022.
    """

    def __init__(
        self,
        n_items: int,
        hidden_size: int = 64,
        max_len: int = 50,
        n_layers: int = 2,
        dropout: float = 0.5,
        generator: torch.Generator | None = None,
    ):
        super().__init__(n_items, hidden_size)
        self.max_len = max_len
        self.position_embedding = nn.Embedding(max_len, hidden_size)
        self.embedding_norm = nn.LayerNorm(hidden_size, eps=1e-12)
        self.embedding_dropout = Dropout(dropout)
        self.blocks = nn.ModuleList(
            FMLPBlock(hidden_size, max_len, dropout) for _ in range(n_layers)
        )
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Draw new initial weights: N(0, 0.02) (filters included), zero biases.

        Layer norms start as the identity and the padding row at zero.

        Parameters
        ----------
        generator : torch.Generator, optional
            Source of the random weights; the global RNG when omitted.
        """
        init_normal_(self, std=0.02, generator=generator)
        for block in self.blocks:
            nn.init.normal_(block.filter.kernel, 0.0, 0.02, generator=generator)

    def forward(self, items: torch.Tensor) -> torch.Tensor:
        """States of every position after the last filter block.

        Parameters
        ----------
        items : LongTensor of shape (B, T)
            Right-padded item indices (0 = padding, item code ``c`` at ``c + 1``);
            ``T <= max_len``, else :class:`ValueError`.

        Returns
        -------
        Tensor of shape (B, T, H)
            Causal states, zero at padding positions.
        """
        check_width(items, self.max_len, "FMLPRec")
        mask = padding_mask(items)  # (B, T, 1)
        positions = torch.arange(items.size(1), device=items.device)  # (T,)
        x = self.item_embedding(items) + self.position_embedding(positions)  # (B, T, H)
        x = self.embedding_dropout(self.embedding_norm(x)) * mask  # (B, T, H)
        for block in self.blocks:
            x = block(x) * mask  # (B, T, H)
        return x  # (B, T, H)
