"""The backbone interface and the layers the backbones share (pure torch).

Input convention of every backbone
----------------------------------
``items`` is a ``LongTensor`` of shape ``(batch, T)``: index 0 is padding, a real item
with internal code ``c`` is ``c + 1`` (so item tables have ``n_items + 1`` rows, row 0
being padding). Rows are **right-padded**: a history of length ``n`` fills columns
``0 .. n - 1`` (oldest first, the most recent item in column ``n - 1``) and the padding
follows it.

Every backbone is **causal**: the state at column ``t`` depends on ``items[:, : t + 1]``
only. With right padding this means padding never reaches a real position, whatever
the batch's width, so the states of a history do not depend on what it is batched with
(tests check it for every backbone).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

__all__ = [
    "CausalSelfAttention",
    "Dropout",
    "FeedForward",
    "SequentialBackbone",
    "dropout",
    "gather_last",
    "padding_mask",
]


def dropout(x: torch.Tensor, p: float, training: bool = True) -> torch.Tensor:
    """Inverted dropout, as ``F.dropout``, with a faster mask on the CPU.

    On the CPU, ``F.dropout`` draws its mask with ``bernoulli_``, one element at a
    time; this draws uniform numbers with ``torch.rand`` (vectorised) and keeps an
    element where the draw is ``>= p``: the same distribution (each element kept with
    probability ``1 - p`` and scaled by ``1 / (1 - p)``), about 3-4 times faster
    forward and backward at the sizes the backbones use. Other devices use
    ``F.dropout`` (fused kernels). The draws come from torch's global generator, so a
    seeded run is reproducible.

    Parameters
    ----------
    x : Tensor
        Input of any shape.
    p : float
        Probability of zeroing an element, in ``[0, 1]`` (else :class:`ValueError`).
    training : bool, default=True
        Whether to drop; when false, or when ``p == 0``, ``x`` itself is returned.

    Returns
    -------
    Tensor
        Same shape and dtype as ``x``.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    if x.device.type != "cpu" or p == 1.0:
        return F.dropout(x, p, training=True)
    keep = torch.rand(x.shape, dtype=torch.float32, device=x.device)  # U[0, 1)
    keep = keep.ge_(p).mul_(1.0 / (1.0 - p))  # 0 or 1 / (1 - p)
    return x * keep.to(x.dtype)


class Dropout(nn.Dropout):
    """``nn.Dropout`` with the faster CPU mask of :func:`dropout`.

    Parameters
    ----------
    p : float, default=0.5
        Probability of zeroing an element.
    inplace : bool, default=False
        Drop in place; this uses torch's own ``F.dropout`` kernel, not the faster
        CPU mask.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply dropout in training mode; return ``x`` unchanged in eval mode.

        Parameters
        ----------
        x : Tensor
            Input of any shape.

        Returns
        -------
        Tensor
            Same shape as ``x``.
        """
        if self.inplace:  # a new mask tensor is needed anyway: keep torch's kernel
            return F.dropout(x, self.p, self.training, inplace=True)
        return dropout(x, self.p, self.training)


def padding_mask(items: torch.Tensor) -> torch.Tensor:
    """``(B, T, 1)`` float mask: 1 at real items, 0 at padding."""
    return items.gt(0).unsqueeze(-1)  # (B, T, 1)


def gather_last(hidden: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """State at the last real position of each right-padded row.

    Parameters
    ----------
    hidden : Tensor of shape (B, T, H)
    lengths : LongTensor of shape (B,)
        Number of real items per row (>= 1).

    Returns
    -------
    Tensor of shape (B, H)
    """
    index = (lengths - 1).view(-1, 1, 1).expand(-1, 1, hidden.size(-1))  # (B, 1, H)
    return hidden.gather(1, index).squeeze(1)  # (B, H)


class SequentialBackbone(nn.Module):
    """Base class of next-item backbones: items ``(B, T)`` -> states ``(B, T, H)``.

    Subclasses implement :meth:`forward`; they inherit the item table and
    :meth:`score`. A module of your own plugs into the estimators if it has the same
    interface: ``forward(items) -> hidden``, ``score(hidden) -> logits``,
    ``item_embedding`` (an ``nn.Embedding(n_items + 1, H, padding_idx=0)``) and the
    attributes ``n_items`` and ``hidden_size`` (``item_logits`` is optional); it must
    be causal (see the module
    notes) so that padding does not change real positions.

    Parameters
    ----------
    n_items : int
        Catalog size (without the padding row).
    hidden_size : int
        Width ``H`` of the item embeddings and of the states.

    Attributes
    ----------
    item_embedding : nn.Embedding of shape (n_items + 1, hidden_size)
        Row 0 is padding and stays zero.
    padding_side : str
        ``"right"``: the only layout the backbones here accept.
    """

    padding_side = "right"

    def __init__(self, n_items: int, hidden_size: int):
        super().__init__()
        if n_items < 1:
            raise ValueError(f"n_items must be >= 1, got {n_items}")
        if hidden_size < 1:
            raise ValueError(f"hidden_size must be >= 1, got {hidden_size}")
        self.n_items = int(n_items)
        self.hidden_size = int(hidden_size)
        self.item_embedding = nn.Embedding(n_items + 1, hidden_size, padding_idx=0)

    def forward(self, items: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        """Causal state at every position; subclasses implement it.

        Parameters
        ----------
        items : LongTensor of shape (B, T)
            Right-padded item indices: 0 is padding, item code ``c`` is ``c + 1``.

        Returns
        -------
        Tensor of shape (B, T, H)
            The state at column ``t`` depends on ``items[:, : t + 1]`` only.
        """
        raise NotImplementedError

    def score(self, hidden: torch.Tensor) -> torch.Tensor:
        """Logits of every item (dot product with the item table).

        Parameters
        ----------
        hidden : Tensor of shape (..., H)

        Returns
        -------
        Tensor of shape (..., n_items + 1)
            Column ``c + 1`` scores item code ``c``; column 0 (padding) is ``-inf``.
        """
        return F.pad(self.item_logits(hidden), (1, 0), value=float("-inf"))

    def item_logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Logits of the real items only: ``score(hidden)[..., 1:]`` without the copy.

        The estimators call it when a module has it (the fast path of full-softmax
        training: no padding column to mask), else they slice :meth:`score`.

        Parameters
        ----------
        hidden : Tensor of shape (..., H)

        Returns
        -------
        Tensor of shape (..., n_items)
            Column ``c`` scores item code ``c``.
        """
        return F.linear(hidden, self.item_embedding.weight[1:])  # (..., n_items)

    def embed_items(self, items: torch.Tensor) -> torch.Tensor:
        """Item embeddings with padding forced to zero, ``(B, T) -> (B, T, H)``.

        Parameters
        ----------
        items : LongTensor of shape (B, T)
            Item indices: 0 is padding, item code ``c`` is ``c + 1``.

        Returns
        -------
        Tensor of shape (B, T, H)
            Rows of :attr:`item_embedding`; zero where ``items`` is 0.
        """
        return self.item_embedding(items) * padding_mask(items)  # (B, T, H)

    def extra_repr(self) -> str:
        return f"n_items={self.n_items}, hidden_size={self.hidden_size}"


def init_normal_(module: nn.Module, std: float = 0.02, generator=None) -> None:
    """RecBole-style init: N(0, std) weights, zero biases, unit LayerNorm, zero padding."""
    for sub in module.modules():
        if isinstance(sub, (nn.Linear, nn.Conv1d, nn.Embedding)):
            nn.init.normal_(sub.weight, 0.0, std, generator=generator)
            if getattr(sub, "bias", None) is not None:
                nn.init.zeros_(sub.bias)
            if isinstance(sub, nn.Embedding) and sub.padding_idx is not None:
                with torch.no_grad():
                    sub.weight[sub.padding_idx].zero_()
        elif isinstance(sub, nn.LayerNorm):
            nn.init.ones_(sub.weight)
            nn.init.zeros_(sub.bias)


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention where position ``t`` sees positions ``<= t`` only.

    Causality is all the masking right-padded rows need: real positions never attend
    to the padding that follows them.

    Parameters
    ----------
    hidden_size : int
        Width ``H`` of the inputs and output; a multiple of ``n_heads``.
    n_heads : int
        Attention heads, each of width ``H // n_heads``.
    dropout : float
        Dropout on the attention weights, in training mode.
    """

    def __init__(self, hidden_size: int, n_heads: int, dropout: float):
        super().__init__()
        if hidden_size % n_heads:
            raise ValueError(
                f"hidden_size ({hidden_size}) must be a multiple of n_heads ({n_heads})"
            )
        self.n_heads = n_heads
        self.dropout = dropout
        self.qkv = nn.Linear(hidden_size, 3 * hidden_size)
        self.out = nn.Linear(hidden_size, hidden_size)

    def forward(self, query: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """Attend from each position of ``query`` to positions ``<= t`` of ``context``.

        Parameters
        ----------
        query : Tensor of shape (B, T, H)
            Sequence the queries are projected from.
        context : Tensor of shape (B, T, H)
            Sequence the keys and values are projected from (the same length).

        Returns
        -------
        Tensor of shape (B, T, H)
            The heads' outputs, concatenated and projected.
        """
        B, T, H = query.shape
        d = H // self.n_heads
        w_q, w_kv = self.qkv.weight.split([H, 2 * H])
        b_q, b_kv = self.qkv.bias.split([H, 2 * H])
        q = F.linear(query, w_q, b_q)  # (B, T, H)
        k, v = F.linear(context, w_kv, b_kv).chunk(2, dim=-1)  # (B, T, H) each
        # on the CPU in training the attention is spelled out, so that its dropout
        # uses the vectorised mask (the fused kernel draws one element at a time)
        spelled_out = self.training and self.dropout > 0 and query.device.type == "cpu"
        if self.n_heads > 1 or not spelled_out:
            q, k, v = (x.view(B, T, self.n_heads, d).transpose(1, 2) for x in (q, k, v))
        if spelled_out:
            logits = (q @ k.transpose(-2, -1)) * d**-0.5  # (B, [heads,] T, T)
            future = torch.ones(T, T, dtype=torch.bool, device=q.device).triu_(1)
            weights = torch.softmax(logits.masked_fill(future, float("-inf")), dim=-1)
            attended = dropout(weights, self.dropout) @ v  # (B, [heads,] T, d)
        else:
            attended = F.scaled_dot_product_attention(
                q, k, v, is_causal=True, dropout_p=self.dropout if self.training else 0.0
            )  # (B, heads, T, d)
        if attended.dim() == 4:  # heads back into the hidden dimension
            attended = attended.transpose(1, 2).reshape(B, T, H)
        return self.out(attended)  # (B, T, H)


class FeedForward(nn.Module):
    """Position-wise two-layer network with dropout (no residual, no norm).

    Parameters
    ----------
    hidden_size : int
        Width ``H`` of the input and output.
    inner_size : int
        Width of the hidden layer.
    dropout : float
        Dropout after the activation and after the output layer.
    act : {"relu", "gelu"}
        Activation of the hidden layer.
    """

    def __init__(self, hidden_size: int, inner_size: int, dropout: float, act: str):
        super().__init__()
        self.fc1 = nn.Linear(hidden_size, inner_size)
        self.fc2 = nn.Linear(inner_size, hidden_size)
        self.dropout = Dropout(dropout)
        self.act = {"relu": F.relu, "gelu": F.gelu}[act]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the network at every position.

        Parameters
        ----------
        x : Tensor of shape (B, T, H)

        Returns
        -------
        Tensor of shape (B, T, H)
        """
        x = self.dropout(self.act(self.fc1(x)))  # (B, T, inner)
        return self.dropout(self.fc2(x))  # (B, T, H)


def check_width(items: torch.Tensor, max_len: int, name: str) -> None:
    """Raise if a positional backbone gets more columns than it has positions."""
    if items.dim() != 2:
        raise ValueError(
            f"{name} expects items of shape (batch, T), got {tuple(items.shape)}"
        )
    if items.size(1) > max_len:
        raise ValueError(
            f"{name} was built for max_len={max_len} positions; got {items.size(1)} "
            "columns (keep the most recent max_len items)"
        )
