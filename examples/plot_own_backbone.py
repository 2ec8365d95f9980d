"""
Bring your own backbone
=======================

The recommenders and the Stage-1 encoder train any torch module with the interface of
:class:`~iadsr_sk.nn.SequentialBackbone`: item indices ``(batch, T)`` in, one state
per position ``(batch, T, hidden_size)`` out. Subclassing it gives the item table,
``score`` and ``item_logits``; only ``forward`` is left to write.

Two rules matter: inputs are **right-padded** with index 0 (item code ``c`` is index
``c + 1``), and the module must be **causal**: the state at position ``t`` may only
read items ``0 .. t``, so that padding and the future never leak into a state.
"""

# %%
# A running-mean backbone
# -----------------------
# Each state mixes the current item with the mean of the items so far: a short-term
# and a long-term view in one small module. A cumulative sum is causal by
# construction.
import matplotlib.pyplot as plt
import torch
from torch import nn

from iadsr_sk import make_iadsr_pipeline
from iadsr_sk.collaborative import SequentialRecommender
from iadsr_sk.data import leave_one_out_split, load_dataset
from iadsr_sk.nn import SequentialBackbone


class RunningMean(SequentialBackbone):
    """State at ``t``: an MLP of item ``t`` and the mean of items ``0..t``."""

    def __init__(self, n_items, hidden_size=32, dropout=0.2):
        super().__init__(n_items, hidden_size)
        self.dropout = nn.Dropout(dropout)
        self.mix = nn.Sequential(
            nn.Linear(2 * hidden_size, hidden_size),
            nn.GELU(),
            nn.Linear(hidden_size, hidden_size),
        )
        nn.init.normal_(self.item_embedding.weight, std=0.02)
        with torch.no_grad():
            self.item_embedding.weight[0].zero_()  # row 0 is padding

    def forward(self, items):
        real = items.gt(0).unsqueeze(-1)  # (B, T, 1)
        x = self.dropout(self.embed_items(items))  # (B, T, H), zero at padding
        seen = real.cumsum(1).clamp(min=1)  # (B, T, 1) items so far
        running_mean = x.cumsum(1) / seen  # (B, T, H)
        return (
            self.mix(torch.cat([x, running_mean], dim=-1)) * real
        )  # (B, T, H)


# %%
# Check causality before training: changing the last item must not change the
# states of the positions before it.
module = RunningMean(n_items=10).eval()
a = module(torch.tensor([[3, 5, 7, 0]]))
b = module(torch.tensor([[3, 5, 2, 0]]))
print("earlier states unchanged:", torch.allclose(a[:, :2], b[:, :2]))

# %%
# Train it like a built-in backbone
# ---------------------------------
# Pass the class (or any factory) as ``backbone``; the estimator calls it with
# ``n_items`` and the settings its signature names that are set: ``hidden_size``
# here (``dropout`` too once the estimator's ``dropout`` is set; left at ``None``, the
# class's own default of 0.2 applies). A built-in GRU4Rec of the same width trains
# alongside for comparison.
seqs = load_dataset("ml-100k")[:150]
split = leave_one_out_split(seqs)
settings = {
    "hidden_size": 32,
    "max_len": 20,
    "max_epochs": 4,
    "random_state": 0,
}
models = {
    "RunningMean": SequentialRecommender(RunningMean, **settings),
    "GRU4Rec": SequentialRecommender("gru4rec", **settings),
}
for name, model in models.items():
    model.fit(split.train, eval_set=(split.valid_input, split.valid_target))
    test = model.evaluate(split.test_input, split.test_target)
    ndcg, hr = test["ndcg@10"], test["hr@10"]
    print(f"{name}: test NDCG@10 {ndcg:.4f}, HR@10 {hr:.4f}")

fig, ax = plt.subplots(figsize=(6, 3.5))
for name, model in models.items():
    epochs = [record["epoch"] for record in model.history_]
    ax.plot(
        epochs,
        [record["loss"] for record in model.history_],
        marker="o",
        label=name,
    )
ax.set_xlabel("epoch")
ax.set_ylabel("training loss (cross-entropy)")
ax.legend()
fig.tight_layout()

# %%
# Use it for IADSR's collaborative view
# -------------------------------------
# The same class drives Stage 1, and the aligner continues training it jointly.
iadsr = make_iadsr_pipeline(backbone=RunningMean, random_state=0)
iadsr.set_params(
    semantic__cache_dir=".iadsr_cache",
    collaborative__hidden_size=32,
    collaborative__max_len=20,
    collaborative__max_epochs=2,
    align__n_epochs=1,
)
denoised = iadsr.fit_transform(split.train)
print(iadsr["collaborative"].module_)
print(
    f"{1 - denoised.n_interactions / split.train.n_interactions:.0%} removed"
)
plt.show()
