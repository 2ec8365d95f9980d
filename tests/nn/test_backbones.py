"""Backbones: shapes, causality, padding invariance, the factory."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from iadsr_sk.nn import (
    BACKBONES,
    Caser,
    CausalSelfAttention,
    Dropout,
    FMLPRec,
    SASRec,
    SequentialBackbone,
    dropout,
    gather_last,
    make_backbone,
)

N_ITEMS = 30
HIDDEN = 8
MAX_LEN = 12
NAMES = sorted(BACKBONES)


def _build(name, seed=0, **kwargs):
    generator = torch.Generator().manual_seed(seed)
    params = dict(hidden_size=HIDDEN, max_len=MAX_LEN, n_heads=2, dropout=0.1)
    params.update(kwargs)
    return make_backbone(name, N_ITEMS, generator=generator, **params).eval()


@pytest.fixture(scope="module", params=NAMES)
def backbone(request):
    return _build(request.param)


def test_shapes_and_padding_column(backbone):
    items = torch.tensor([[3, 4, 5, 0, 0], [1, 2, 3, 4, 5]])
    hidden = backbone(items)
    assert hidden.shape == (2, 5, HIDDEN)
    assert isinstance(backbone, SequentialBackbone)
    assert backbone.hidden_size == HIDDEN and backbone.n_items == N_ITEMS
    logits = backbone.score(hidden)
    assert logits.shape == (2, 5, N_ITEMS + 1)
    assert torch.isneginf(logits[..., 0]).all()
    assert torch.isfinite(logits[..., 1:]).all()
    # padding positions carry zero states; item table row 0 is zero
    assert hidden[0, 3:].abs().max() == 0
    assert backbone.item_embedding.weight[0].abs().max() == 0


def test_score_matches_item_table(backbone):
    hidden = torch.randn(3, HIDDEN)
    logits = backbone.score(hidden)
    expected = hidden @ backbone.item_embedding.weight[1:].T
    torch.testing.assert_close(logits[:, 1:], expected)


@settings(max_examples=25, deadline=None)
@given(
    name=st.sampled_from(NAMES),
    history=st.lists(st.integers(1, N_ITEMS), min_size=1, max_size=8),
    extra_padding=st.integers(1, 4),
    other=st.lists(st.integers(1, N_ITEMS), min_size=1, max_size=MAX_LEN),
)
def test_padding_never_changes_real_positions(name, history, extra_padding, other):
    model = _MODELS[name]
    n = len(history)
    alone = model(torch.tensor([history]))[0]  # (n, H)
    padded = model(torch.tensor([history + [0] * extra_padding]))[0, :n]
    torch.testing.assert_close(padded, alone, atol=1e-5, rtol=1e-5)
    # batched with a longer or shorter neighbour: still the same states
    width = max(n, len(other))
    batch = torch.tensor([history + [0] * (width - n), other + [0] * (width - len(other))])
    torch.testing.assert_close(model(batch)[0, :n], alone, atol=1e-5, rtol=1e-5)


_MODELS = {name: _build(name) for name in NAMES}


@pytest.mark.parametrize("name", NAMES)
def test_causal(name):
    model = _MODELS[name]
    items = torch.tensor([[5, 6, 7, 8, 9, 10]])
    changed = items.clone()
    changed[0, 4] = 20
    torch.testing.assert_close(
        model(changed)[0, :4], model(items)[0, :4], atol=1e-6, rtol=0
    )
    assert not torch.allclose(model(changed)[0, 4], model(items)[0, 4])


def test_caser_reads_only_its_window():
    model = Caser(N_ITEMS, hidden_size=HIDDEN, window=3).eval()
    items = torch.tensor([[1, 2, 3, 4, 5, 6]])
    changed = items.clone()
    changed[0, 1] = 9  # three or more steps before columns 4 and 5
    torch.testing.assert_close(model(changed)[0, 4:], model(items)[0, 4:])
    assert not torch.allclose(model(changed)[0, 3], model(items)[0, 3])


@pytest.mark.parametrize("name", NAMES)
def test_train_mode_has_gradients_everywhere(name):
    model = _build(name).train()
    items = torch.tensor([[1, 2, 3, 0], [4, 5, 6, 7]])
    loss = model.score(model(items)[items > 0]).logsumexp(-1).mean()
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert model.item_embedding.weight.grad[0].abs().max() == 0  # padding row


def test_generator_makes_init_reproducible():
    for name in NAMES:
        a, b = _build(name, seed=3), _build(name, seed=3)
        c = _build(name, seed=4)
        for (key, pa), pb in zip(
            a.state_dict().items(), b.state_dict().values(), strict=True
        ):
            assert torch.equal(pa, pb), key
        assert any(
            not torch.equal(pa, pc)
            for pa, pc in zip(a.parameters(), c.parameters(), strict=True)
        )


def test_positional_backbones_reject_wide_input():
    for cls in (SASRec, FMLPRec):
        model = cls(N_ITEMS, hidden_size=HIDDEN, max_len=4)
        with pytest.raises(ValueError, match="max_len=4"):
            model(torch.ones(1, 5, dtype=torch.long))


def test_make_backbone_validates():
    with pytest.raises(ValueError, match="valid names"):
        make_backbone("bert", N_ITEMS)
    with pytest.raises(TypeError, match="window"):
        make_backbone("sasrec", N_ITEMS, window=3)
    # shared settings a backbone does not use are dropped; None = its default
    gru = make_backbone(
        "gru4rec", N_ITEMS, hidden_size=8, n_heads=4, max_len=7, dropout=None
    )
    assert gru.hidden_size == 8
    caser = make_backbone("caser", N_ITEMS, hidden_size=8, window=3, n_layers=2)
    assert caser.window == 3
    with pytest.raises(ValueError, match="multiple of n_heads"):
        make_backbone("sasrec", N_ITEMS, hidden_size=10, n_heads=3)


def test_gather_last():
    hidden = torch.arange(2 * 3 * 2, dtype=torch.float32).view(2, 3, 2)
    last = gather_last(hidden, torch.tensor([1, 3]))
    torch.testing.assert_close(last, torch.stack([hidden[0, 0], hidden[1, 2]]))


def test_dropout_keeps_each_element_with_probability_one_minus_p():
    x = torch.ones(200, 500, requires_grad=True)
    torch.manual_seed(0)
    y = dropout(x, 0.3)
    kept = y != 0
    # 100,000 draws: the share kept is within 5 standard deviations of 0.7
    assert abs(kept.float().mean().item() - 0.7) < 5 * (0.7 * 0.3 / x.numel()) ** 0.5
    torch.testing.assert_close(y[kept], torch.full_like(y[kept], 1 / 0.7))
    y.sum().backward()  # the gradient is the same mask, scaled
    torch.testing.assert_close(x.grad, y.detach())
    torch.manual_seed(0)
    assert torch.equal(dropout(x, 0.3), y)  # seeded: reproducible
    assert dropout(x, 0.3, training=False) is x
    assert dropout(x, 0.0) is x
    assert not dropout(x, 1.0).any()
    with pytest.raises(ValueError, match=r"in \[0, 1\], got 1.5"):
        dropout(x, 1.5)
    layer = Dropout(0.3)
    assert isinstance(layer, torch.nn.Dropout)
    assert layer.eval()(x) is x


@pytest.mark.parametrize("n_heads", [1, 2])
def test_attention_in_training_matches_sdpa_without_the_dropout(n_heads, monkeypatch):
    import iadsr_sk.nn._layers as layers

    attention = CausalSelfAttention(8, n_heads, 0.5)
    g = torch.Generator().manual_seed(0)
    query, context = torch.randn(3, 5, 8, generator=g), torch.randn(3, 5, 8, generator=g)
    expected = attention.eval()(query, context)  # scaled_dot_product_attention
    monkeypatch.setattr(layers, "dropout", lambda x, p, training=True: x)
    got = attention.train()(query, context)  # the spelled-out training path
    torch.testing.assert_close(got, expected)
