"""A re-creation of the released IADSR training step, to time beside ``InterestAligner``.

Stage-2 throughput is reported as a ratio to the authors' released training loop
(github.com/MessiahCorleone/IADSR, ``Beauty/Baseline/SASRec.py``). Timing both in one
run, on the same machine at the same moment, keeps the ratio honest on a shared
machine whose speed changes from day to day. This module is written for this project
from a reading of that loop; it keeps the loop's unit of work and its structure:

- one next-item target per user (the last item of a history of at most 31 inputs,
  left-padded), batches of 32, Adam (learning rate 1e-4, weight decay 1e-4);
- a PyTorch ``TransformerEncoder`` (2 layers, 2 heads, width 64, feed-forward 100, GELU,
  dropout 0.5, no attention mask), a projection to 128, and ``tanh`` of a full
  linear layer over the catalog whose columns at the batch's targets give an in-batch
  cross-entropy;
- semantic vectors looked up per user in dictionaries (one long-term vector, one list
  of short-term vectors), then projected without bias;
- InfoNCE (temperature 0.1) on the short-term states of every valid position and on
  the max-pooled long-term states;
- the noise score, Gumbel-sigmoid mask, decoder and reconstruction loss computed user
  by user and position by position in Python, each user's mask copied to a Python list
  and kept, as the released loop does;
- ``loss.item()`` after every step.

It departs from the released loop in ways that each make a step slightly cheaper, so
that a ratio to it leans low:

- the per-user slices pair exactly the user's own positions (the released loop's
  offsets drift for histories longer than its window), and only each user's last 31
  short-term vectors are projected (the released loop projects all of them, then drops
  the older ones);
- the step prints nothing and calls ``.item()`` once (the released loop prints the loss
  and reads every user's id and length as Python numbers);
- the per-user lengths stay on the host and the semantic vectors on the model's device
  (on a GPU the released loop copies every vector to the device at every step and
  synchronises for every user);
- the semantic width is that of the vectors given (the released loop reads 4096-d
  LLM2Vec vectors).
"""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from iadsr_sk.data import Sequences
from iadsr_sk.nn._alignment import info_nce
from iadsr_sk.nn._layers import init_normal_

#: the released loop's history window and batch size
WINDOW = 32 - 1
BATCH_SIZE = 32


class ReleasedModel(nn.Module):
    """The released SASRec variant's network, with the Stage-2 heads it trains.

    Parameters
    ----------
    n_items : int
        Catalog size; embedding row 0 is padding, item code ``c`` is row ``c + 1``.
    semantic_dim : int
        Width of the semantic vectors.
    dropout : float, default=0.5
        Of the embeddings and the encoder layers (0 makes a step deterministic up to
        its Gumbel draws).
    """

    def __init__(self, n_items: int, semantic_dim: int, dropout: float = 0.5):
        super().__init__()
        self.embedding = nn.Embedding(n_items + 1, 64)
        self.position_embedding = nn.Embedding(WINDOW, 64)
        self.norm = nn.LayerNorm(64, eps=1e-12)
        self.dropout = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(
            d_model=64,
            nhead=2,
            dim_feedforward=100,
            dropout=dropout,
            activation="gelu",
            batch_first=True,
        )
        self.encoder = nn.TransformerEncoder(
            layer, num_layers=2, enable_nested_tensor=False
        )
        self.proj = nn.Linear(64, 128)
        self.fc = nn.Linear(128, n_items + 1)
        self.short_proj = nn.Linear(semantic_dim, 128, bias=False)
        self.long_proj = nn.Linear(semantic_dim, 128, bias=False)
        self.decoder = nn.Linear(128, 64)
        init_normal_(self, std=0.02)  # as the released code: N(0, 0.02), zero biases

    def forward(self, embedded: torch.Tensor):
        """``embedded`` (B, T, 64) -> (tanh logits (B, n_items + 1), states (B, T, 128),
        max-pooled states (B, 128))."""
        positions = torch.arange(embedded.size(1), device=embedded.device)
        x = self.dropout(self.norm(embedded + self.position_embedding(positions)))
        states = self.proj(self.encoder(x))  # (B, T, 128)
        logits = torch.tanh(self.fc(states[:, -1]))  # (B, n_items + 1)
        return logits, states, states.amax(dim=1)


class ReleasedData:
    """The released loop's inputs for the users of ``seqs`` with two or more items.

    Parameters
    ----------
    seqs : Sequences
        Training histories; the last item of each is its target, the rest its input.
    item_vectors : ndarray of shape (n_items, D)
        One semantic vector per item code.
    device : str or torch.device, default="cpu"
        Where the tensors live (the model must be there too).
    """

    def __init__(self, seqs: Sequences, item_vectors: np.ndarray, device="cpu"):
        trained = seqs.take(np.flatnonzero(seqs.lengths >= 2))
        inputs = trained.head(1)
        codes = inputs.padded(WINDOW, side="left", pad_code=-1)  # (n, WINDOW)
        self.device = torch.device(device)
        self.inputs = torch.as_tensor(codes + 1, device=self.device)  # padding at 0
        self.counts = torch.as_tensor(np.minimum(inputs.lengths, WINDOW))
        self.targets = torch.as_tensor(trained.last_codes() + 1, device=self.device)
        self.users = torch.arange(len(trained))
        vectors = torch.as_tensor(np.asarray(item_vectors, dtype=np.float32), device=device)
        self.long_of = {}
        self.short_of = {}
        for user in range(len(inputs)):
            row = inputs.row_codes(user)
            recent = vectors[torch.as_tensor(row[-WINDOW:])]  # (count, D)
            self.long_of[user] = vectors[torch.as_tensor(row)].mean(dim=0)
            self.short_of[user] = list(recent)

    def __len__(self) -> int:
        return len(self.users)


def released_step(model, optimizer, data, batch, mask_log, generator=None) -> float:
    """One training step of the released loop on the users ``batch``; its loss.

    ``mask_log`` (a dict) receives each user's sampled mask as a list, as the released
    loop keeps them; ``generator`` draws the Gumbel noise (the global RNG if omitted).
    """
    device = data.device
    users = data.users[batch]
    counts = data.counts[batch]
    embedded = model.embedding(data.inputs[batch.to(device)])  # (B, T, 64)
    targets = data.targets[batch.to(device)]
    optimizer.zero_grad()
    keys = users.tolist()
    long_sem = model.long_proj(torch.stack([data.long_of[u] for u in keys]))  # (B, 128)
    short_sem = model.short_proj(
        torch.stack([v for u in keys for v in data.short_of[u]])
    )  # (N, 128)
    logits, states, pooled = model(embedded)
    loss = F.cross_entropy(logits[:, targets], torch.arange(len(keys), device=device))
    short_states = torch.cat([states[i, -int(c) :] for i, c in enumerate(counts)])
    loss = loss + info_nce(short_states, short_sem) + info_nce(pooled, long_sem)
    reconstruction = 0.0
    start = 0
    for i, user in enumerate(keys):
        n = int(counts[i])
        own_states = states[i, -n:]
        own_sem = short_sem[start : start + n]
        start += n
        scores = torch.zeros(n, device=device)
        for j in range(n):
            scores[j] = (
                F.cosine_similarity(long_sem[i][None], own_states[j][None])
                + F.cosine_similarity(pooled[i][None], own_sem[j][None])
                + F.cosine_similarity(own_states[j][None], own_sem[j][None])
            ).squeeze(0)
        uniform = torch.rand(n, generator=generator, device=device)
        gumbel = -torch.log(-torch.log(uniform + 1e-10) + 1e-10)
        soft = torch.sigmoid(scores + gumbel)
        mask = (soft > 0.5).float() - soft.detach() + soft
        mask_log.setdefault(user, []).append(mask.detach().cpu().numpy().tolist())
        rebuilt = model.decoder(own_states * mask[:, None])  # (n, 64)
        reconstruction = reconstruction + F.mse_loss(rebuilt, embedded[i, -n:])
    loss = loss + reconstruction
    loss.backward()
    optimizer.step()
    return loss.item()


def released_throughput(data, model, n_steps: int, *, warmup: int = 3, seed: int = 0):
    """Sequences per second of ``n_steps`` released-loop steps at batch 32 (after
    ``warmup`` untimed ones), on shuffled users as the released loop draws them."""
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(data), generator=generator)
    need = (warmup + n_steps) * BATCH_SIZE
    order = order.repeat(need // len(order) + 1)[:need]
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, weight_decay=1e-4)
    model.train()
    mask_log: dict = {}
    batches = order.split(BATCH_SIZE)
    for batch in batches[:warmup]:
        released_step(model, optimizer, data, batch, mask_log)
    start = time.perf_counter()
    for batch in batches[warmup:]:
        released_step(model, optimizer, data, batch, mask_log)
    return n_steps * BATCH_SIZE / (time.perf_counter() - start)
