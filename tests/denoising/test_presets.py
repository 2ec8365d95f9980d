"""The faithful preset: last-position training, the Pipeline builder and run settings."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from stage2_data import FakeCollaborative, semantic_view, small_encoder, topic_sequences

from iadsr_sk.collaborative import SequentialRecommender
from iadsr_sk.collaborative._recommender import last_position_windows
from iadsr_sk.denoising import InterestAligner, SequenceDenoiser
from iadsr_sk.experiment import DenoisingRun
from iadsr_sk.pipeline import make_iadsr_pipeline


def test_last_position_windows_end_at_each_last_target():
    lengths = np.array([1, 2, 5, 40])
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    starts, sizes, train_from = last_position_windows(offsets, lengths, max_len=31)
    # the 1-item history has no target; the others end right before their last item
    assert sizes.tolist() == [1, 4, 31]
    assert (starts + sizes).tolist() == (offsets[2:] - 1).tolist()
    assert (train_from == sizes - 1).all()


def test_last_position_training_trains_one_target_per_history():
    histories = [[1, 2, 3, 4, 1, 2, 3, 4], [2, 3, 4, 1, 2, 3, 4, 1]] * 8
    model = SequentialRecommender(
        "gru4rec",
        hidden_size=8,
        max_epochs=2,
        validation=None,
        train_positions="last",
        random_state=0,
    ).fit(histories)
    assert model.n_train_positions_ == len(histories)
    everywhere = SequentialRecommender(
        "gru4rec", hidden_size=8, max_epochs=1, validation=None, random_state=0
    ).fit(histories)
    assert everywhere.n_train_positions_ == 7 * len(histories)
    with pytest.raises(ValueError, match="train_positions"):
        SequentialRecommender(train_positions="first").fit(histories)


def test_aligner_on_a_last_position_backbone_still_aligns_every_position():
    seqs, noise = topic_sequences()
    encoder = small_encoder(seqs, train_positions="last")
    X = FakeCollaborative(seqs, semantic_view(seqs), encoder, source=seqs)
    aligner = InterestAligner(n_epochs=15, random_state=0, learning_rate=5e-3).fit(X)
    scores = aligner.transform(X).scores
    # one window per history, yet InfoNCE and reconstruction saw every position
    assert aligner.n_train_sequences_ == len(seqs)
    assert roc_auc_score(~noise, scores) > 0.75
    assert SequenceDenoiser().fit(aligner.transform(X)).removed_fraction_ >= 0


def test_make_iadsr_pipeline_presets():
    default = make_iadsr_pipeline(random_state=1).get_params()
    faithful = make_iadsr_pipeline(preset="faithful", random_state=1).get_params()
    assert default["collaborative__max_len"] == 50
    assert default["collaborative__train_positions"] == "all"
    assert default["semantic__mode"] == "item"
    assert faithful["collaborative__max_len"] == 31
    assert faithful["collaborative__train_positions"] == "last"
    assert faithful["semantic__mode"] == "prefix"
    assert faithful["align__gumbel_noise"] == "gumbel"
    assert faithful["align__random_state"] == 1
    recommender = SequentialRecommender(hidden_size=8)
    pipe = make_iadsr_pipeline(recommender)
    assert pipe.steps[-1] == ("recommend", recommender)
    with pytest.raises(ValueError, match="unknown preset 'paper'"):
        make_iadsr_pipeline(preset="paper")


def test_run_presets_fill_only_what_was_left_unset():
    run = DenoisingRun(preset="faithful").resolved()
    assert (run.max_len, run.semantic_mode) == (31, "prefix")
    assert run.recommender_params == {"train_positions": "last"}
    explicit = DenoisingRun(
        preset="faithful",
        max_len=20,
        semantic_mode="item",
        recommender_params={"train_positions": "all"},
    ).resolved()
    assert (explicit.max_len, explicit.semantic_mode) == (20, "item")
    assert explicit.recommender_params == {"train_positions": "all"}
    plain = DenoisingRun().resolved()
    assert (plain.max_len, plain.semantic_mode, plain.recommender_params) == (
        50,
        "item",
        {},
    )
    with pytest.raises(ValueError, match="unknown preset"):
        DenoisingRun(preset="nope").resolved()
