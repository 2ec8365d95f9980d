"""Sequential backbones in pure torch (no scikit-learn inside).

Every backbone maps right-padded item indices ``(B, T)`` (0 = padding, item code ``c``
at index ``c + 1``) to causal states ``(B, T, H)``; see
:class:`~iadsr_sk.nn.SequentialBackbone` for the interface a module of your own needs.
"""

from __future__ import annotations

import inspect

import torch

from ._layers import (
    CausalSelfAttention,
    Dropout,
    FeedForward,
    SequentialBackbone,
    dropout,
    gather_last,
)
from .caser import Caser
from .fmlprec import FMLPRec
from .gru4rec import GRU4Rec
from .sasrec import SASRec

__all__ = [
    "BACKBONES",
    "Caser",
    "CausalSelfAttention",
    "Dropout",
    "FMLPRec",
    "FeedForward",
    "GRU4Rec",
    "SASRec",
    "SequentialBackbone",
    "call_backbone_factory",
    "dropout",
    "gather_last",
    "make_backbone",
]

#: name -> class of the built-in backbones
BACKBONES: dict[str, type[SequentialBackbone]] = {
    "sasrec": SASRec,
    "gru4rec": GRU4Rec,
    "caser": Caser,
    "fmlprec": FMLPRec,
}

# shared settings an estimator passes to any backbone; each backbone takes the ones
# its constructor names and ignores the others (GRU4Rec has no positions or heads)
_COMMON = ("hidden_size", "max_len", "n_layers", "n_heads", "dropout", "generator")


def make_backbone(
    name: str, n_items: int, *, generator: torch.Generator | None = None, **kwargs
) -> SequentialBackbone:
    """Build a built-in backbone by name.

    Parameters
    ----------
    name : {"sasrec", "gru4rec", "caser", "fmlprec"}
    n_items : int
        Catalog size (without the padding row).
    generator : torch.Generator, optional
        Source of the initial weights.
    **kwargs
        Constructor arguments. The shared settings ``hidden_size``, ``max_len``,
        ``n_layers``, ``n_heads`` and ``dropout`` are passed to the backbones that
        take them and dropped for the others; ``None`` means the backbone's default.
        Any other keyword must be an argument of that backbone (e.g. ``window`` for
        Caser), else :class:`TypeError`.

    Returns
    -------
    SequentialBackbone

    Examples
    --------
    >>> from iadsr_sk.nn import make_backbone
    >>> model = make_backbone("sasrec", n_items=100, hidden_size=32, n_heads=2)
    >>> model(torch.tensor([[3, 7, 0]])).shape
    torch.Size([1, 3, 32])
    """
    if not isinstance(name, str) or name.lower() not in BACKBONES:
        raise ValueError(f"unknown backbone {name!r}; valid names: {sorted(BACKBONES)}")
    return call_backbone_factory(
        BACKBONES[name.lower()], n_items, generator=generator, **kwargs
    )


def call_backbone_factory(factory, n_items: int, **kwargs):
    """Call ``factory(n_items=n_items, **kwargs)`` with the arguments it accepts.

    ``None`` values are left out (the factory's defaults apply). The shared settings
    (``hidden_size``, ``max_len``, ``n_layers``, ``n_heads``, ``dropout``,
    ``generator``) are dropped when the factory does not name them; any other
    keyword it does not accept raises :class:`TypeError`. A factory with
    ``**kwargs`` receives everything.

    Parameters
    ----------
    factory : callable
        A backbone class or a function that returns a module; it must accept
        ``n_items`` as a keyword.
    n_items : int
        Catalog size (without the padding row).
    **kwargs
        Constructor arguments, filtered as described above.

    Returns
    -------
    nn.Module
        What ``factory`` returns.
    """
    parameters = inspect.signature(factory).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    params = {}
    for key, value in kwargs.items():
        if value is None or (key in _COMMON and key not in parameters and not takes_any):
            continue
        if key not in parameters and not takes_any:
            name = getattr(factory, "__name__", type(factory).__name__)
            raise TypeError(
                f"{name} has no parameter {key!r}; it takes "
                f"{sorted(k for k in parameters if k != 'n_items')}"
            )
        params[key] = value
    return factory(n_items=n_items, **params)
