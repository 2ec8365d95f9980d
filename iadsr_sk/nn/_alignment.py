"""Pure-torch pieces of Stage 2: InfoNCE, noise scores, straight-through Gumbel masks."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "AlignmentHead",
    "gumbel_sigmoid_mask",
    "info_nce",
    "masked_max_pool",
    "noise_scores",
]


def info_nce(
    queries: torch.Tensor,
    keys: torch.Tensor,
    temperature: float = 0.1,
    *,
    normalized: bool = False,
):
    """InfoNCE with in-batch negatives and cosine similarity.

    Row ``i`` of ``queries`` should match row ``i`` of ``keys``; every other row of
    ``keys`` is a negative. Returns the mean of
    ``-log softmax_j(cos(q_i, k_j) / temperature)[i]``.

    Parameters
    ----------
    queries, keys : Tensor of shape (N, H)
    temperature : float
    normalized : bool, default=False
        The rows already have unit length (``F.normalize``): skip normalising them
        again. Stage 2 normalises each view once and shares it with the noise score.
    """
    if queries.shape != keys.shape or queries.ndim != 2:
        raise ValueError(
            f"queries and keys must both be (N, H), got {tuple(queries.shape)} and "
            f"{tuple(keys.shape)}"
        )
    # dividing the (N, H) queries, not the (N, N) logits, by the temperature
    q = (queries if normalized else F.normalize(queries, dim=-1)) / temperature  # (N, H)
    k = keys if normalized else F.normalize(keys, dim=-1)  # (N, H)
    logits = q @ k.T  # (N, N)
    labels = torch.arange(q.shape[0], device=q.device)
    return F.cross_entropy(logits, labels)


def masked_max_pool(states: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Max over the valid positions only (padding never wins).

    states: (B, T, H); valid: (B, T) bool with at least one True per row -> (B, H).
    """
    fill = torch.finfo(states.dtype).min
    return states.masked_fill(~valid.unsqueeze(-1), fill).amax(dim=1)  # (B, H)


def noise_scores(
    collab_short: torch.Tensor,
    collab_long: torch.Tensor,
    semantic_short: torch.Tensor,
    semantic_long: torch.Tensor,
    *,
    terms: tuple[str, ...] = ("long_short", "short_long", "short_short"),
    normalized: bool = False,
) -> torch.Tensor:
    """Per-position fit score in [-3, 3] (high = fits the user).

    ``cos(s^L, h_j) + cos(h^L, s_j) + cos(h_j, s_j)``; ``terms`` selects summands
    for ablations: ``"long_short"`` = semantic-long vs collaborative-short,
    ``"short_long"`` = collaborative-long vs semantic-short, ``"short_short"`` =
    collaborative-short vs semantic-short, and ``"collab_only"`` =
    ``cos(h^L, h_j)`` (the collaborative-only ablation).

    collab_short, semantic_short: (B, T, H); collab_long, semantic_long: (B, H).
    ``normalized=True``: every vector already has unit length, so each cosine is a
    dot product. Returns (B, T).
    """

    def cos(a, b):
        if normalized:
            return (a * b).sum(-1)
        return F.cosine_similarity(a, b, dim=-1)

    score = torch.zeros(collab_short.shape[:2], device=collab_short.device)
    for term in terms:
        if term == "long_short":
            score = score + cos(semantic_long.unsqueeze(1), collab_short)  # (B, T)
        elif term == "short_long":
            score = score + cos(collab_long.unsqueeze(1), semantic_short)
        elif term == "short_short":
            score = score + cos(collab_short, semantic_short)
        elif term == "collab_only":
            score = score + cos(collab_long.unsqueeze(1), collab_short)
        else:
            raise ValueError(f"unknown noise-score term {term!r}")
    return score


def gumbel_sigmoid_mask(
    scores: torch.Tensor,
    *,
    temperature: float = 1.0,
    noise: str = "gumbel",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Hard keep-mask (1 = keep) with a straight-through gradient.

    Forward: ``1[sigmoid((score + g) / temperature) > 0.5]``. Backward: the gradient of
    the soft ``sigmoid((score + g) / temperature)``.

    ``noise="gumbel"`` adds one Gumbel(0, 1) sample (the released code);
    ``noise="logistic"`` adds ``g1 - g2`` of two Gumbel samples (the binary-Concrete
    relaxation); ``noise="none"`` adds nothing.
    """
    if noise == "none":
        perturbed = scores
    else:

        def gumbel():
            u = torch.rand(scores.shape, generator=generator, device=scores.device)
            return -torch.log((-torch.log(u.clamp_min(1e-10))).clamp_min(1e-10))

        if noise == "gumbel":
            perturbed = scores + gumbel()
        elif noise == "logistic":
            perturbed = scores + gumbel() - gumbel()
        else:
            raise ValueError(f"noise must be 'gumbel', 'logistic' or 'none', got {noise!r}")
    soft = torch.sigmoid(perturbed / temperature)
    hard = (soft > 0.5).to(soft.dtype)
    return hard + (soft - soft.detach())  # exact 0/1 forward, soft gradient


class AlignmentHead(nn.Module):
    """Projections of both views into the shared interest space, and the decoder.

    ``project_short``: W_1 (semantic_dim -> hidden); ``project_long``: W_2; both without
    bias. ``project_collab``: the backbone's hidden states (``collab_size`` wide) ->
    hidden, without bias, or ``None`` when ``collab_size`` is ``None`` (the states
    are the collaborative interests as they are, and ``hidden_size`` must be their
    width). ``decoder``: hidden -> item-embedding dim, for the reconstruction loss.
    """

    def __init__(
        self,
        semantic_dim: int,
        hidden_size: int,
        embedding_dim: int,
        collab_size: int | None = None,
    ):
        super().__init__()
        self.project_short = nn.Linear(semantic_dim, hidden_size, bias=False)
        self.project_long = nn.Linear(semantic_dim, hidden_size, bias=False)
        self.project_collab = (
            None if collab_size is None else nn.Linear(collab_size, hidden_size, bias=False)
        )
        self.decoder = nn.Linear(hidden_size, embedding_dim)

    def collaborative(self, states: torch.Tensor) -> torch.Tensor:
        """The collaborative short-term interests ``h_j`` of backbone states (..., d)."""
        # heads pickled before project_collab existed have no such attribute
        project = getattr(self, "project_collab", None)
        return states if project is None else project(states)
