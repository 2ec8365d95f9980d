import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iadsr_sk.data import Sequences
from iadsr_sk.data._noise import inject_noise

histories = st.lists(
    st.lists(st.integers(0, 30), min_size=1, max_size=15), min_size=1, max_size=15
)
rates = st.floats(0.0, 0.95)
seeds = st.integers(0, 2**32 - 1)
samplings = st.sampled_from(["uniform", "popularity"])


def _with_times(rows):
    times = [np.arange(len(r), dtype=float) * 10 + i for i, r in enumerate(rows)]
    return Sequences.from_lists(rows, timestamps=times, user_ids=np.arange(len(rows)))


@settings(max_examples=60, deadline=None)
@given(histories, rates, seeds, samplings)
def test_replace_keeps_lengths_and_clean_positions(rows, rate, seed, sampling):
    if len({x for r in rows for x in r}) < 2:  # replacing needs two items to draw
        rows = [[*r, 31] for r in rows]
    seqs = _with_times(rows)
    before = seqs.codes.copy()
    noisy, mask = inject_noise(seqs, rate, sampling=sampling, random_state=seed)
    assert np.array_equal(seqs.codes, before)  # input untouched
    assert mask.dtype == bool and mask.shape == noisy.codes.shape
    assert np.array_equal(noisy.offsets, seqs.offsets)
    assert np.array_equal(noisy.codes[~mask], seqs.codes[~mask])
    # every injected item differs from the original: mask count == changed positions
    assert mask.sum() == np.count_nonzero(noisy.codes != seqs.codes)
    assert np.array_equal(noisy.timestamps, seqs.timestamps)
    assert np.array_equal(noisy.user_ids, seqs.user_ids)
    assert noisy.vocabulary is seqs.vocabulary


@settings(max_examples=60, deadline=None)
@given(histories, rates, seeds, samplings)
def test_insert_removing_noise_gives_back_original(rows, rate, seed, sampling):
    seqs = _with_times(rows)
    noisy, mask = inject_noise(
        seqs, rate, mode="insert", sampling=sampling, random_state=seed
    )
    assert mask.shape == noisy.codes.shape
    assert noisy.n_interactions == seqs.n_interactions + mask.sum()
    clean = noisy.keep_mask(~mask)
    assert clean.to_lists() == rows
    assert np.array_equal(clean.timestamps, seqs.timestamps)
    # noise never comes first and takes the timestamp of the item before it
    assert not mask[noisy.offsets[:-1]].any()
    noise_at = np.flatnonzero(mask)
    assert np.array_equal(noisy.timestamps[noise_at], noisy.timestamps[noise_at - 1])
    assert noisy.lengths.sum() == noisy.n_interactions


@settings(max_examples=30, deadline=None)
@given(histories, rates, seeds, st.sampled_from(["replace", "insert"]))
def test_seeded_determinism(rows, rate, seed, mode):
    rows = [[*r, 31] for r in rows]  # at least two items, so replacing is possible
    a, ma = inject_noise(rows, rate, mode=mode, random_state=seed)
    b, mb = inject_noise(rows, rate, mode=mode, random_state=seed)
    assert a.to_lists() == b.to_lists() and np.array_equal(ma, mb)


@pytest.mark.parametrize("mode", ["replace", "insert"])
def test_rate_zero_is_identity(mode):
    rows = [[1, 2, 3], [4], [5, 6]]
    noisy, mask = inject_noise(rows, 0.0, mode=mode, random_state=0)
    assert noisy.to_lists() == rows and not mask.any()


def test_noise_rate_is_respected():
    rows = [list(range(50))] * 40
    _, mask = inject_noise(rows, 0.3, random_state=1)
    assert mask.mean() == pytest.approx(0.3, abs=0.03)
    _, mask = inject_noise(rows, 0.3, mode="insert", random_state=1)
    assert mask.sum() / 2000 == pytest.approx(0.3, abs=0.03)


@pytest.mark.parametrize("mode", ["replace", "insert"])
def test_popularity_sampling_favours_popular_items(mode):
    # item 0 is 90% of the interactions, items 1..9 share the rest
    rng = np.random.default_rng(0)
    rows = [[0] * 9 + [int(rng.integers(1, 10))] for _ in range(300)]
    seqs = Sequences.from_lists(rows)
    noisy, mask = inject_noise(seqs, 0.5, mode=mode, sampling="popularity", random_state=3)
    drawn = noisy.vocabulary.decode(noisy.codes[mask])
    if mode == "replace":
        # replacing a 0 can't draw 0; replacing a rare item draws 0 most of the time
        was_rare = seqs.codes[mask] != 0
        assert np.mean(drawn[was_rare] == 0) > 0.7
    else:
        assert np.mean(drawn == 0) == pytest.approx(0.9, abs=0.03)
    uniform, umask = inject_noise(seqs, 0.5, mode=mode, sampling="uniform", random_state=3)
    assert np.mean(uniform.vocabulary.decode(uniform.codes[umask]) == 0) < 0.3


def test_uniform_replace_excludes_original_and_covers_vocabulary():
    rows = [[0, 1, 2, 3]] * 500
    noisy, mask = inject_noise(rows, 0.5, random_state=0)
    seqs = Sequences.from_lists(rows)
    orig, new = seqs.codes[mask], noisy.codes[mask]
    assert np.all(orig != new)
    counts = np.bincount(new[orig == 0], minlength=4)
    assert counts[0] == 0 and counts[1:].min() > 0.25 * counts[1:].sum()


def test_catalog_and_user_ids_kept():
    from iadsr_sk.data import ItemCatalog

    cat = ItemCatalog([1, 2, 3], {"title": ["a", "b", "c"]})
    seqs = Sequences.from_lists([[1, 2], [3]], catalog=cat, user_ids=np.array(["u", "v"]))
    noisy, _ = inject_noise(seqs, 0.5, mode="insert", random_state=0)
    assert noisy.catalog is cat and noisy.user_ids.tolist() == ["u", "v"]


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, float("nan"), "0.1", True])
def test_bad_rate(rate):
    with pytest.raises(ValueError, match="rate"):
        inject_noise([[1, 2]], rate)


def test_bad_mode_and_sampling():
    with pytest.raises(ValueError, match="mode"):
        inject_noise([[1, 2]], 0.1, mode="swap")
    with pytest.raises(ValueError, match="sampling"):
        inject_noise([[1, 2]], 0.1, sampling="zipf")


def test_replace_impossible_with_one_item():
    with pytest.raises(ValueError, match="at least two items"):
        inject_noise([[7, 7, 7]] * 20, 0.5, random_state=0)
    # insertion of the only item is fine
    noisy, _ = inject_noise([[7, 7]] * 20, 0.5, mode="insert", random_state=0)
    assert set(noisy.vocabulary.decode(noisy.codes).tolist()) == {7}


def test_empty_sequences_allowed():
    seqs = Sequences.from_lists([[], [1, 2]], allow_empty=True)
    for mode in ("replace", "insert"):
        noisy, mask = inject_noise(
            seqs, 0.5, mode=mode, sampling="popularity", random_state=0
        )
        assert noisy.lengths[0] == 0 and mask.shape == noisy.codes.shape
