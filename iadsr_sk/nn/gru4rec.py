"""GRU4Rec: a recurrent network over the item sequence (Hidasi et al., ICLR 2016)."""

from __future__ import annotations

import torch
from torch import nn

from ._layers import Dropout, SequentialBackbone, padding_mask

__all__ = ["GRU4Rec"]


class GRU4Rec(SequentialBackbone):
    """Item embeddings -> dropout -> GRU -> linear layer (as in RecBole's GRU4Rec).

    Parameters
    ----------
    n_items : int
        Catalog size (without padding).
    hidden_size : int, default=64
        Embedding width, GRU width and output width.
    n_layers : int, default=1
        Stacked GRU layers.
    dropout : float, default=0.3
        On the item embeddings (and between GRU layers when ``n_layers > 1``).
    generator : torch.Generator, optional
        Source of the initial weights; the global RNG when omitted.

    Notes
    -----
    A GRU is causal by construction; with right padding (see :mod:`iadsr_sk.nn`) the
    padding is read only after every real item, so it never changes their states
    and no packing is needed.

    References
    ----------
    B. Hidasi, A. Karatzoglou, L. Baltrunas and D. Tikk. Session-based Recommendations
    with Recurrent Neural Networks. ICLR 2016.
    """

    def __init__(
        self,
        n_items: int,
        hidden_size: int = 64,
        n_layers: int = 1,
        dropout: float = 0.3,
        generator: torch.Generator | None = None,
    ):
        super().__init__(n_items, hidden_size)
        self.embedding_dropout = Dropout(dropout)
        self.gru = nn.GRU(
            hidden_size,
            hidden_size,
            num_layers=n_layers,
            batch_first=True,
            dropout=dropout if n_layers > 1 else 0.0,
        )
        self.dense = nn.Linear(hidden_size, hidden_size)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Draw new initial weights.

        Xavier-normal item table and output layer, Xavier-uniform input and
        orthogonal recurrent GRU weights, zero biases and padding row.

        Parameters
        ----------
        generator : torch.Generator, optional
            Source of the random weights; the global RNG when omitted.
        """
        nn.init.xavier_normal_(self.item_embedding.weight, generator=generator)
        with torch.no_grad():
            self.item_embedding.weight[0].zero_()
        for name, weight in self.gru.named_parameters():
            if name.startswith("weight_ih"):
                nn.init.xavier_uniform_(weight, generator=generator)
            elif name.startswith("weight_hh"):
                nn.init.orthogonal_(weight, generator=generator)
            else:
                nn.init.zeros_(weight)
        nn.init.xavier_normal_(self.dense.weight, generator=generator)
        nn.init.zeros_(self.dense.bias)

    def forward(self, items: torch.Tensor) -> torch.Tensor:
        """GRU states of every position through the output layer.

        Parameters
        ----------
        items : LongTensor of shape (B, T)
            Right-padded item indices: 0 is padding, item code ``c`` is ``c + 1``.

        Returns
        -------
        Tensor of shape (B, T, H)
            Causal states, zero at padding positions.
        """
        mask = padding_mask(items)  # (B, T, 1)
        x = self.embedding_dropout(self.embed_items(items))  # (B, T, H)
        # the recurrence runs in float32 even under autocast (no bf16 RNN kernels on
        # many CPUs/GPUs, and rounding errors compound over time steps)
        with torch.autocast(device_type=items.device.type, enabled=False):
            states, _ = self.gru(x.float())  # (B, T, H)
        return self.dense(states) * mask  # (B, T, H)
