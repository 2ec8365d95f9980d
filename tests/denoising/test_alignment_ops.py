import math

import numpy as np
import pytest
import torch

from iadsr_sk.nn._alignment import (
    gumbel_sigmoid_mask,
    info_nce,
    masked_max_pool,
    noise_scores,
)


def test_info_nce_equals_hand_computed_reference():
    q = torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    k = torch.tensor([[2.0, 0.0], [1.0, 1.0], [0.0, -1.0]])
    tau = 0.5

    def cos(a, b):
        return float(a @ b) / (float(a.norm()) * float(b.norm()))

    expected = 0.0
    for i in range(3):
        logits = [cos(q[i], k[j]) / tau for j in range(3)]
        expected += -(logits[i] - math.log(sum(math.exp(x) for x in logits)))
    expected /= 3
    assert info_nce(q, k, tau).item() == pytest.approx(expected, rel=1e-6)


def test_info_nce_prefers_matched_pairs():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(16, 8, generator=g)
    matched = info_nce(x, x + 0.01 * torch.randn(16, 8, generator=g), 0.1)
    shuffled = info_nce(x, x[torch.randperm(16, generator=g)], 0.1)
    assert matched < shuffled
    with pytest.raises(ValueError, match=r"\(N, H\)"):
        info_nce(x, x[:3])


def test_masked_max_pool_ignores_padding():
    states = torch.tensor([[[1.0, -5.0], [9.0, 9.0], [2.0, -1.0]]])
    valid = torch.tensor([[True, False, True]])
    assert masked_max_pool(states, valid).tolist() == [[2.0, -1.0]]


def test_noise_scores_terms():
    g = torch.Generator().manual_seed(1)
    h = torch.randn(2, 3, 4, generator=g)
    s = torch.randn(2, 3, 4, generator=g)
    hl, sl = h.amax(1), s.mean(1)
    full = noise_scores(h, hl, s, sl)
    cos = torch.nn.functional.cosine_similarity
    ref = cos(sl[:, None], h, dim=-1) + cos(hl[:, None], s, dim=-1) + cos(h, s, dim=-1)
    torch.testing.assert_close(full, ref)
    assert full.abs().max() <= 3.0 + 1e-6
    only = noise_scores(h, hl, s, sl, terms=("collab_only",))
    torch.testing.assert_close(only, cos(hl[:, None], h, dim=-1))
    with pytest.raises(ValueError, match="unknown noise-score term"):
        noise_scores(h, hl, s, sl, terms=("bogus",))


@pytest.mark.parametrize("noise", ["gumbel", "logistic", "none"])
def test_straight_through_mask_is_hard_and_passes_gradients(noise):
    scores = torch.linspace(-3, 3, 50, requires_grad=True)
    g = torch.Generator().manual_seed(0)
    mask = gumbel_sigmoid_mask(scores, noise=noise, generator=g)
    assert set(np.unique(mask.detach().numpy())) <= {0.0, 1.0}
    (mask * torch.arange(1.0, 51.0)).sum().backward()
    assert scores.grad is not None and (scores.grad.abs() > 0).all()
    if noise == "none":
        assert mask.detach().tolist() == (scores.detach() > 0).float().tolist()


def test_gumbel_mask_keeps_high_scores_more_often():
    g = torch.Generator().manual_seed(0)
    high = gumbel_sigmoid_mask(torch.full((5000,), 2.0), generator=g).mean()
    low = gumbel_sigmoid_mask(torch.full((5000,), -2.0), generator=g).mean()
    assert high > 0.8 and low < 0.2
    with pytest.raises(ValueError, match="noise must be"):
        gumbel_sigmoid_mask(torch.zeros(3), noise="normal")


def test_normalized_inputs_give_the_same_losses_and_scores():
    # Stage 2 normalises each view once and passes unit vectors: same values, and the
    # same gradients, as the cosine forms on the raw vectors
    g = torch.Generator().manual_seed(2)
    raw = [torch.randn(*shape, generator=g, requires_grad=True) for shape in
           [(5, 3, 4), (5, 4), (5, 3, 4), (5, 4)]]  # fmt: skip
    h, hl, s, sl = raw

    def unit(x):
        return torch.nn.functional.normalize(x, dim=-1)

    for terms in [("long_short", "short_long", "short_short"), ("collab_only",)]:
        ref = noise_scores(h, hl, s, sl, terms=terms)
        fast = noise_scores(unit(h), unit(hl), unit(s), unit(sl), terms=terms,
                            normalized=True)  # fmt: skip
        torch.testing.assert_close(fast, ref)
        grads_ref = torch.autograd.grad(ref.sum(), raw, allow_unused=True)
        grads_fast = torch.autograd.grad(fast.sum(), raw, allow_unused=True)
        for a, b in zip(grads_fast, grads_ref, strict=True):
            assert (a is None) == (b is None)
            if a is not None:
                torch.testing.assert_close(a, b)
    q, k = h[:, 0], s[:, 0]
    ref = info_nce(q, k, 0.1)
    fast = info_nce(unit(q), unit(k), 0.1, normalized=True)
    torch.testing.assert_close(fast, ref)
    got = torch.autograd.grad(fast, [h, s])
    expected = torch.autograd.grad(ref, [h, s])
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a, b)
