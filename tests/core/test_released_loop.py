"""The re-creation of the released training loop that Stage-2 throughput is measured
against computes the loss it describes: its per-user, per-position loss equals the
same loss computed here in one pass over all positions, from inputs built here from
the histories."""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from iadsr_sk.data import Sequences
from iadsr_sk.nn._alignment import info_nce

WIDTH = 6  # semantic width


@pytest.fixture
def histories():
    rng = np.random.default_rng(0)
    # lengths around the released window of 31 inputs, and one user too short to train
    lengths = [1, 2, 3, 9, 31, 32, 33, 45]
    return [[f"i{k}" for k in rng.integers(0, 40, size=n)] for n in lengths]


def one_pass_loss(model, inputs, counts, targets, short, long, generator):
    """The released step's loss over all positions at once (Gumbel draws user by
    user, in the step's order); and each user's hard mask."""
    embedded = model.embedding(inputs)  # (B, T, 64)
    logits, states, pooled = model(embedded)
    loss = F.cross_entropy(logits[:, targets], torch.arange(len(targets)))
    width = inputs.shape[1]
    valid = torch.arange(width)[None, :] >= width - counts[:, None]  # (B, T)
    rows = torch.arange(len(counts))[:, None].expand(-1, width)[valid]  # (N,)
    h = states[valid]  # (N, 128), user by user, oldest first
    s = model.short_proj(short)  # (N, 128)
    s_long = model.long_proj(long)  # (B, 128)
    loss = loss + info_nce(h, s) + info_nce(pooled, s_long)
    score = (
        F.cosine_similarity(s_long[rows], h, dim=-1)
        + F.cosine_similarity(pooled[rows], s, dim=-1)
        + F.cosine_similarity(h, s, dim=-1)
    )
    uniform = torch.cat([torch.rand(int(c), generator=generator) for c in counts])
    gumbel = -torch.log(-torch.log(uniform + 1e-10) + 1e-10)
    mask = (torch.sigmoid(score + gumbel) > 0.5).float()
    error = ((model.decoder(h * mask[:, None]) - embedded[valid]) ** 2).mean(dim=-1)
    per_user = torch.zeros(len(counts)).index_add(0, rows, error) / counts
    return loss + per_user.sum(), mask.split(counts.tolist())


def test_released_step_matches_a_one_pass_computation_of_its_loss(
    load_benchmark, histories
):
    released = load_benchmark("_released_loop")
    seqs = Sequences.from_lists(histories)
    vectors = np.random.default_rng(1).standard_normal((seqs.n_items, WIDTH))
    data = released.ReleasedData(seqs, vectors)
    assert len(data) == len(histories) - 1  # the one-item history has no target
    torch.manual_seed(0)
    model = released.ReleasedModel(seqs.n_items, WIDTH, dropout=0.0)
    twin = copy.deepcopy(model)

    # the expected inputs, built from the histories directly
    vectors = torch.as_tensor(vectors, dtype=torch.float32)
    trained = [h for h in histories if len(h) >= 2]
    codes = [seqs.vocabulary.encode(h).tolist() for h in trained]
    counts = torch.tensor([min(len(c) - 1, 31) for c in codes])
    inputs = torch.zeros(len(codes), 31, dtype=torch.long)
    for row, c in enumerate(codes):
        recent = c[:-1][-31:]
        inputs[row, 31 - len(recent) :] = torch.tensor(recent) + 1
    targets = torch.tensor([c[-1] + 1 for c in codes])
    short = torch.cat([vectors[c[:-1][-31:]] for c in codes])
    long = torch.stack([vectors[c[:-1]].mean(dim=0) for c in codes])
    assert torch.equal(data.inputs, inputs)
    assert torch.equal(data.counts, counts)
    assert torch.equal(data.targets, targets)

    masks = {}
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    loss = released.released_step(
        model,
        optimizer,
        data,
        torch.arange(len(data)),
        masks,
        generator=torch.Generator().manual_seed(3),
    )
    expected, expected_masks = one_pass_loss(
        twin, inputs, counts, targets, short, long, torch.Generator().manual_seed(3)
    )
    assert loss == pytest.approx(expected.item(), rel=1e-5)
    assert sorted(masks) == list(range(len(data)))
    for user, mask in enumerate(expected_masks):
        assert masks[user] == [mask.tolist()]
    # the step trained the model: every parameter moved
    for (name, p), q in zip(model.named_parameters(), twin.parameters(), strict=True):
        assert not torch.equal(p, q), name


def test_released_throughput_needs_a_step(load_benchmark, histories):
    released = load_benchmark("_released_loop")
    seqs = Sequences.from_lists(histories)
    data = released.ReleasedData(seqs, np.zeros((seqs.n_items, WIDTH)))
    model = released.ReleasedModel(seqs.n_items, WIDTH)
    with pytest.raises(ValueError, match="n_steps must be >= 1, got 0"):
        released.released_throughput(data, model, 0)


def test_released_throughput_trains_the_model(load_benchmark, histories):
    released = load_benchmark("_released_loop")
    seqs = Sequences.from_lists(histories)
    vectors = np.random.default_rng(1).standard_normal((seqs.n_items, WIDTH))
    data = released.ReleasedData(seqs, vectors)
    torch.manual_seed(0)
    model = released.ReleasedModel(seqs.n_items, WIDTH)
    before = copy.deepcopy(model.state_dict())
    # more steps than users: the shuffled order repeats
    speed = released.released_throughput(data, model, 3, warmup=1)
    assert np.isfinite(speed) and speed > 0
    assert not torch.equal(model.decoder.weight, before["decoder.weight"])
