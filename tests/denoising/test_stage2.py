import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score

from iadsr_sk.data import Sequences
from iadsr_sk.denoising import InterestAligner, NoiseScores, RandomDropper, SequenceDenoiser
from iadsr_sk.denoising._aligner import _semantic_parts
from iadsr_sk.denoising._keep_rule import keep_mask_from_scores


def test_aligner_learns_scores_that_find_off_topic_items(topic_data):
    X, noise = topic_data
    aligner = InterestAligner(n_epochs=15, random_state=0, learning_rate=5e-3)
    scores = aligner.fit(X).transform(X)
    assert isinstance(scores, NoiseScores)
    assert scores.scores.shape == (X.sequences.n_interactions,)
    assert np.abs(scores.scores).max() <= 3 + 1e-5
    assert len(aligner.history_) == 15
    assert aligner.semantic_dim_ == 12
    # genuine items must score higher than injected ones
    assert roc_auc_score(~noise, scores.scores) > 0.8


def test_aligner_is_deterministic_and_leaves_encoder_alone(topic_data):
    X, _ = topic_data
    before = {k: v.clone() for k, v in X.encoder.module_.state_dict().items()}
    a = InterestAligner(n_epochs=2, random_state=3).fit(X).transform(X).scores
    b = InterestAligner(n_epochs=2, random_state=3).fit(X).transform(X).scores
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for k, v in X.encoder.module_.state_dict().items():
        assert (v == before[k]).all()


def test_interest_size_projects_the_hidden_states_and_learns_the_projection(topic_data):
    """``interest_size=H``: h_j is a learned projection of the backbone's states to H,
    its max-pool is h^L, and the projection is trained (it leaves its initial
    weights); the scores are those of the projected views."""
    import torch

    X, noise = topic_data
    aligner = InterestAligner(
        interest_size=24, n_epochs=15, random_state=0, learning_rate=5e-3
    )
    aligner.fit(X)
    project = aligner.head_.project_collab
    assert project.weight.shape == (24, X.encoder.module_.hidden_size)
    assert project.bias is None
    assert aligner.head_.project_short.weight.shape == (24, 12)
    assert aligner.head_.decoder.weight.shape[1] == 24
    scores = aligner.transform(X).scores
    assert roc_auc_score(~noise, scores) > 0.8
    # the scores read the projected states: recomputed by hand from them
    seqs = X.sequences
    h, h_long, s, s_long, rows = aligner._interest_views(
        seqs, _semantic_parts(X.semantic, seqs)
    )
    states = torch.as_tensor(aligner.recommender_._position_states(seqs))
    np.testing.assert_allclose(h.numpy(), project(states).detach().numpy(), rtol=1e-5)
    first = np.asarray(seqs.offsets[:-1])
    np.testing.assert_allclose(
        h_long[0].numpy(), h[first[0] : seqs.offsets[1]].amax(0).numpy(), rtol=1e-6
    )
    cos = torch.nn.functional.cosine_similarity
    by_hand = (
        cos(s_long[rows], h, dim=-1) + cos(h_long[rows], s, dim=-1) + cos(h, s, dim=-1)
    )
    np.testing.assert_allclose(scores, by_hand.numpy(), rtol=1e-5, atol=1e-5)
    # trained: with the same seed (so the same initial weights), one epoch and
    # fifteen end with different projections; an untrained one would stay equal
    shorter = InterestAligner(interest_size=24, n_epochs=1, random_state=0).fit(X)
    assert not torch.equal(project.weight, shorter.head_.project_collab.weight)


def test_no_interest_size_uses_the_hidden_states_as_they_are(topic_data):
    X, _ = topic_data
    aligner = InterestAligner(n_epochs=1, random_state=0).fit(X)
    assert aligner.head_.project_collab is None
    h = aligner._interest_views(X.sequences, None)[0]
    np.testing.assert_array_equal(
        h.numpy(), aligner.recommender_._position_states(X.sequences)
    )


@pytest.mark.parametrize(
    "variant", ["collab_only", "no_long", "no_short", "no_align", "no_rec"]
)
def test_ablations_run(topic_data, variant):
    X, _ = topic_data
    scores = (
        InterestAligner(variant=variant, n_epochs=1, random_state=0).fit(X).transform(X)
    )
    assert np.isfinite(scores.scores).all()
    if variant == "collab_only":
        assert np.isnan(scores.user_similarity).all()


def test_aligner_errors(topic_data):
    X, _ = topic_data
    X.semantic = None
    with pytest.raises(ValueError, match="needs the semantic view"):
        InterestAligner(n_epochs=1).fit(X)
    with pytest.raises(TypeError, match=r"CollaborativeEncoder\.transform"):
        InterestAligner().fit([[1, 2, 3]])
    with pytest.raises(ValueError, match="variant"):
        InterestAligner(variant="nope").fit(X)


def test_denoiser_transform_keeps_type_order_and_min_length(topic_data):
    X, _ = topic_data
    scores = InterestAligner(n_epochs=1, random_state=0).fit(X).transform(X)
    denoiser = SequenceDenoiser(min_length=3).fit(scores)
    out = denoiser.transform(scores)
    assert isinstance(out, Sequences) and len(out) == len(X.sequences)
    assert (out.lengths >= 3).all()
    masks = denoiser.keep_masks(scores)
    for original, kept, mask in zip(
        X.sequences.to_lists(), out.to_lists(), masks, strict=True
    ):
        assert kept == [x for x, m in zip(original, mask, strict=True) if m]
    assert 0 <= denoiser.removed_fraction_ < 1
    scores.source = X.sequences.to_lists()
    assert isinstance(denoiser.transform(scores), list)
    assert clone(denoiser).get_params() == denoiser.get_params()


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 9), min_size=1, max_size=8), min_size=1, max_size=10),
    st.data(),
    st.integers(0, 4),
    st.booleans(),
)
def test_keep_rule_invariants(rows, data, min_length, keep_last):
    seqs = Sequences.from_lists(rows)
    scores = np.array(
        data.draw(
            st.lists(
                st.floats(-3, 3), min_size=seqs.n_interactions, max_size=seqs.n_interactions
            )
        )
    )
    keep = keep_mask_from_scores(seqs, scores, min_length=min_length, keep_last=keep_last)
    kept = seqs.keep_mask(keep)
    assert len(kept) == len(seqs)
    assert (kept.lengths >= np.minimum(seqs.lengths, min_length)).all()
    flat_rows, _ = seqs.positions()
    for i in range(len(seqs)):
        row_keep = keep[flat_rows == i]
        row_scores = scores[flat_rows == i]
        passes = 1 / (1 + np.exp(-row_scores)) > 0.5
        # everything that passes the threshold is kept
        assert row_keep[passes].all()
        if keep_last:
            assert row_keep[-1]
        if row_keep.sum() > max(min_length, 0) + keep_last:
            # beyond the guarantees, nothing at or below 0 is kept
            forced = np.argsort(-row_scores, kind="stable")[:min_length]
            extra = row_keep & ~passes
            extra[forced] = False
            if keep_last:
                extra[-1] = False
            assert not extra.any()
    assert (
        keep_mask_from_scores(
            seqs, scores, min_length=min_length, keep_last=keep_last
        ).tolist()
        == keep.tolist()
    )


def test_user_gate_and_threshold():
    seqs = Sequences.from_lists([[1, 2, 3], [4, 5, 6]])
    scores = np.array([1.0, -1.0, -2.0, 1.0, -1.0, -2.0])
    gate = np.array([0.9, -0.5])
    keep = keep_mask_from_scores(seqs, scores, user_similarity=gate, user_gate=0.0)
    assert keep.tolist() == [True, False, False, True, True, True]
    keep = keep_mask_from_scores(seqs, scores, threshold=0.2)
    # sigmoid(-1) = 0.27 > 0.2, sigmoid(-2) = 0.12
    assert keep.tolist() == [True, True, False, True, True, False]


def test_random_dropper_matches_rate_and_is_seeded():
    rng = np.random.default_rng(0)
    rows = [rng.integers(0, 50, 20).tolist() for _ in range(200)]
    dropper = RandomDropper(rate=0.3, random_state=0).fit(rows)
    assert dropper.removed_fraction_ == pytest.approx(0.3, abs=0.03)
    assert dropper.transform(rows) == dropper.transform(rows)
    out = dropper.transform(rows)
    assert isinstance(out, list) and len(out) == 200 and all(len(r) >= 1 for r in out)


def test_random_dropper_draws_from_a_random_state():
    rows = [list(range(20)) for _ in range(30)]
    outputs = []
    for _ in range(2):
        dropper = RandomDropper(rate=0.3, random_state=np.random.RandomState(0))
        dropper.fit(rows)
        outputs.append([dropper.transform(rows), dropper.transform(rows)])
    # the same calls on the same state give the same outputs; each call draws anew
    assert outputs[0] == outputs[1]
    assert outputs[0][0] != outputs[0][1]


def test_aligner_trains_on_windows_of_its_own_max_len(topic_data):
    import torch

    X, _ = topic_data
    encoder_len = X.encoder.recommender_.max_len
    full = InterestAligner(n_epochs=1, random_state=0).fit(X)
    short = InterestAligner(n_epochs=1, random_state=0, max_len=3).fit(X)
    assert (full.max_len_, short.max_len_) == (encoder_len, 3)
    assert not np.allclose(full.transform(X).scores, short.transform(X).scores)
    with pytest.raises(
        ValueError, match=f"longer than the encoder's window \\({encoder_len}"
    ):
        InterestAligner(n_epochs=1, max_len=encoder_len + 1).fit(X)
    on_device = InterestAligner(n_epochs=1, random_state=0, device=torch.device("cpu"))
    np.testing.assert_array_equal(
        on_device.fit(X).transform(X).scores, full.transform(X).scores
    )


def test_aligner_pickles_its_backbone_once(topic_data):
    import pickle

    X, _ = topic_data
    aligner = InterestAligner(n_epochs=1, random_state=0).fit(X)
    assert aligner.module_ is aligner.recommender_.module_
    state = aligner.__getstate__()
    assert state["module_"] is None  # the recommender's pickle holds it
    loaded = pickle.loads(pickle.dumps(aligner))
    assert loaded.module_ is loaded.recommender_.module_
    np.testing.assert_array_equal(loaded.transform(X).scores, aligner.transform(X).scores)


def test_denoiser_refuses_empty_scores_and_forgets_an_earlier_vocabulary():
    seqs = Sequences.from_lists([[1, 2, 3], [4, 5]])
    scores = NoiseScores(seqs, np.array([0.5, -0.2, 0.1, 0.3, -0.4]), np.ones(2))
    empty = seqs.take(np.zeros(0, dtype=int))
    with pytest.raises(ValueError, match="hold no sequences"):
        SequenceDenoiser().fit(NoiseScores(empty, np.zeros(0), np.zeros(0)))
    denoiser = SequenceDenoiser(removal_rate=0.2, center_items=True).fit(scores)
    assert denoiser.vocabulary_ is seqs.vocabulary
    denoiser.set_params(removal_rate=None, center_items=False).fit(scores)
    assert denoiser.vocabulary_ is None and denoiser.item_score_mean_ is None


def _scores(rows, values):
    seqs = Sequences.from_lists(rows)
    return NoiseScores(
        sequences=seqs,
        scores=np.asarray(values, dtype=np.float32),
        user_similarity=np.full(len(rows), np.nan),
    )


def test_removal_rate_learns_a_cutoff_and_applies_it_to_new_sequences():
    rng = np.random.default_rng(0)
    rows = [rng.integers(0, 30, 10).tolist() for _ in range(100)]
    # every score is positive: the spec's threshold rule removes nothing
    values = rng.uniform(0.5, 3.0, 1000)
    train = _scores(rows, values)
    assert SequenceDenoiser().fit(train).removed_fraction_ == 0.0
    denoiser = SequenceDenoiser(removal_rate=0.2).fit(train)
    assert denoiser.removed_fraction_ == pytest.approx(0.2, abs=0.005)
    assert denoiser.score_cutoff_ == pytest.approx(np.quantile(values, 0.2), rel=1e-6)
    # new sequences: the learned cutoff, not a new quantile of their own scores
    new = _scores([[1, 2, 3, 4]], [denoiser.score_cutoff_ - 0.1, 3.0, 3.0, 3.0])
    assert denoiser.keep_mask(new).tolist() == [False, True, True, True]
    high = _scores([[1, 2, 3, 4]], [3.0, 3.0, 3.0, 3.0])
    assert denoiser.keep_mask(high).all()
    # min_length still holds; the threshold is not used
    keep = SequenceDenoiser(removal_rate=0.9, min_length=2, threshold=0.01).fit(train)
    assert (np.add.reduceat(keep.keep_mask(train), train.sequences.offsets[:-1]) >= 2).all()


def test_removal_rate_errors():
    train = _scores([[1, 2, 3]], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="removal_rate"):
        SequenceDenoiser(removal_rate=1.5).fit(train)
    fitted = SequenceDenoiser().fit(train)
    fitted.set_params(removal_rate=0.3)
    with pytest.raises(Exception, match="fit this SequenceDenoiser"):
        fitted.keep_mask(train)


def test_removal_rate_zero_removes_nothing():
    # the lowest score is not removed: 0 is "no budget", e.g. one point of a grid,
    # or a matched rate where the method itself removed nothing
    values = np.array([0.1, -0.4, 0.2, -0.4, 0.3])
    train = _scores([[1, 2, 3], [4, 5]], values)
    denoiser = SequenceDenoiser(removal_rate=0.0).fit(train)
    assert denoiser.removed_fraction_ == 0.0
    assert denoiser.score_cutoff_ == -np.inf
    assert denoiser.keep_mask(train).all()
    new = _scores([[1, 2]], [-3.0, -3.0])
    assert denoiser.keep_mask(new).all()


def test_standardize_judges_each_item_against_its_own_sequence():
    # user 0's items all score high, user 1's all low; each has one outlier
    train = _scores(
        [[1, 2, 3, 4], [5, 6, 7, 8]], [2.0, 2.1, 2.2, 0.5, -2.0, -2.1, -2.2, -3.9]
    )
    raw = SequenceDenoiser(removal_rate=0.25).fit(train)
    # raw scores: the low-scoring user loses two items, the outliers are not both found
    assert raw.keep_mask(train).tolist() == [True] * 4 + [True, True, False, False]
    z = SequenceDenoiser(removal_rate=0.25, standardize=True).fit(train)
    # standardised: each user's own outlier goes
    assert z.keep_mask(train).tolist() == [True, True, True, False, True, True, True, False]
    assert z.removed_fraction_ == 0.25
    # new sequences are standardised on their own and cut at the learned cutoff
    new = _scores([[9, 10, 11]], [10.0, 10.1, 7.0])
    assert z.keep_mask(new).tolist() == [True, True, False]
    # a one-item or constant sequence scores 0 everywhere; min_length keeps one item
    flat = _scores([[1], [2, 3]], [-5.0, 1.0, 1.0])
    assert z.keep_mask(flat).sum() >= 2
    # the input is untouched
    assert train.scores.tolist() == pytest.approx(
        [2.0, 2.1, 2.2, 0.5, -2.0, -2.1, -2.2, -3.9]
    )


def test_standardize_needs_a_removal_rate():
    train = _scores([[1, 2, 3]], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="standardize=True needs removal_rate"):
        SequenceDenoiser(standardize=True).fit(train)
    fitted = SequenceDenoiser(removal_rate=0.3, standardize=True).fit(train)
    fitted.set_params(removal_rate=None)
    with pytest.raises(ValueError, match="standardize=True needs removal_rate"):
        fitted.keep_mask(train)
    with pytest.raises(Exception, match="standardize"):
        SequenceDenoiser(removal_rate=0.3, standardize="yes").fit(train)


def _scores_over(vocabulary, rows, values):
    seqs = Sequences.from_lists(rows, vocabulary=vocabulary)
    return NoiseScores(
        sequences=seqs,
        scores=np.asarray(values, dtype=np.float64),
        user_similarity=np.full(len(rows), np.nan),
    )


def test_center_items_judges_each_occurrence_against_the_item():
    from iadsr_sk.data import ItemVocabulary

    # item 1 fits its users (0.8-0.9) but for one occurrence (0.1); item 2 scores low
    # wherever it appears (e.g. a cold item with a poorly trained vector); item 3 is
    # in the vocabulary but never in the training positions
    vocabulary = ItemVocabulary([1, 2, 3])
    values = [0.9, -0.5, 0.8, 0.9, -0.6, 0.1]
    train = _scores_over(vocabulary, [[1, 2, 1], [1, 2, 1]], values)
    raw = SequenceDenoiser(removal_rate=1 / 6).fit(train)
    # raw scores: the low-scoring item goes
    assert raw.keep_mask(train).tolist() == [True, True, True, True, False, True]
    centred = SequenceDenoiser(removal_rate=1 / 6, center_items=True).fit(train)
    # centred: item 1's odd occurrence goes, item 2 is judged against itself
    assert centred.keep_mask(train).tolist() == [True, True, True, True, True, False]
    assert centred.item_score_mean_ == pytest.approx([0.675, -0.55, np.mean(values)])
    assert raw.item_score_mean_ is None
    # new sequences over the same vocabulary are centred by the training means
    new = _scores_over(vocabulary, [[2, 1, 3]], [-0.55, 0.0, np.mean(values) - 1.0])
    assert centred.keep_mask(new).tolist() == [True, False, False]
    # the input is untouched
    assert train.scores.tolist() == pytest.approx(values)
    # with standardize, the item means are of the standardised scores
    both = SequenceDenoiser(removal_rate=1 / 6, standardize=True, center_items=True)
    from iadsr_sk.denoising._keep_rule import standardize_within_sequences

    z = standardize_within_sequences(train.sequences, train.scores)
    both.fit(train)
    assert both.item_score_mean_[0] == pytest.approx(z[[0, 2, 3, 5]].mean())


def test_center_items_refuses_what_it_cannot_centre():
    train = _scores([[1, 2, 3]], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="center_items=True needs removal_rate"):
        SequenceDenoiser(center_items=True).fit(train)
    fitted = SequenceDenoiser(removal_rate=0.3, center_items=True).fit(train)
    # sequences over another vocabulary have no training means
    with pytest.raises(ValueError, match="another item vocabulary"):
        fitted.keep_mask(_scores([[4, 5]], [0.1, 0.2]))
    with pytest.raises(Exception, match="center_items"):
        SequenceDenoiser(removal_rate=0.3, center_items=1).fit(train)
    # switched on after a fit without it: no item means to centre by
    plain = SequenceDenoiser(removal_rate=0.3).fit(train)
    with pytest.raises(NotFittedError, match="fit this SequenceDenoiser"):
        plain.set_params(center_items=True).keep_mask(train)


@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.floats(-3, 3, allow_nan=False)),
        min_size=2,
        max_size=40,
    ),
    st.floats(0.05, 0.9),
)
@settings(max_examples=60, deadline=None)
def test_centred_scores_average_0_per_item_and_keep_each_items_order(pairs, rate):
    items = [i for i, _ in pairs]
    values = np.array([v for _, v in pairs])
    train = _scores([items], values)
    denoiser = SequenceDenoiser(removal_rate=rate, center_items=True).fit(train)
    centred = denoiser._values(train)
    codes = train.sequences.codes
    for code in np.unique(codes):
        at = codes == code
        assert abs(centred[at].mean()) < 1e-9
        # a shift within the item: the order of its occurrences is kept
        order = np.argsort(values[at], kind="stable")
        assert (np.diff(centred[at][order]) >= -1e-12).all()
    # the removals are the lowest centred scores
    keep = denoiser.keep_mask(train)
    if (~keep).any() and keep.any():
        assert centred[~keep].max() <= centred[keep].min() + 1e-12


@given(
    st.lists(
        st.lists(st.floats(-3, 3, allow_nan=False), min_size=1, max_size=8),
        min_size=1,
        max_size=10,
    )
)
@settings(max_examples=60, deadline=None)
def test_standardized_scores_have_mean_0_and_keep_each_sequences_order(rows):
    from iadsr_sk.denoising._keep_rule import standardize_within_sequences

    seqs = Sequences.from_lists([list(range(len(r))) for r in rows])
    values = np.concatenate([np.asarray(r) for r in rows])
    z = standardize_within_sequences(seqs, values)
    assert np.isfinite(z).all()
    for part, raw in zip(np.split(z, seqs.offsets[1:-1]), rows, strict=True):
        raw = np.asarray(raw)
        assert abs(part.mean()) < 1e-9
        if np.ptp(raw) > 1e-6:
            assert part.std() == pytest.approx(1.0, abs=1e-6)
            # a monotone map within the sequence: the order of the items is kept
            assert (np.diff(part[np.argsort(raw, kind="stable")]) >= -1e-12).all()
        elif np.ptp(raw) == 0:
            assert (part == 0).all()


def test_scoring_projects_only_the_items_the_histories_hold():
    """Item mode: scoring a few histories projects the vectors of their items, not the
    whole catalog's; a read-only item table (e.g. a memmap) is read without a warning."""
    import warnings

    from iadsr_sk.collaborative import CollaborativeEncoder
    from iadsr_sk.semantic import SemanticEmbedder

    rng = np.random.default_rng(0)
    histories = [rng.integers(0, 30, size=6).tolist() for _ in range(40)]
    vectors = {item: rng.normal(size=4) for item in range(30)}
    embedder = SemanticEmbedder("precomputed", embeddings=vectors).fit(histories)
    encoder = CollaborativeEncoder(
        "gru4rec", hidden_size=8, max_len=6, max_epochs=1, validation=None, random_state=0
    ).fit(histories)
    aligner = InterestAligner(n_epochs=1, random_state=0)
    aligner.fit(encoder.transform(embedder.transform(histories)))
    embedder.item_embeddings_.setflags(write=False)
    few = histories[:2]
    inputs = []
    hook = aligner.head_.project_short.register_forward_hook(
        lambda module, args, out: inputs.append(tuple(args[0].shape))
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            aligner.transform(encoder.transform(embedder.transform(few)))
    finally:
        hook.remove()
    assert inputs == [(len({item for row in few for item in row}), 4)]
