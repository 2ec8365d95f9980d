"""The cross-backbone benchmark: options are checked before any data is read, and
each backbone is trained on the noisy histories and on exactly the histories the
Stage-1 backbone's cut leaves."""

import functools
import json
import logging
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from iadsr_sk.collaborative import SequentialRecommender
from iadsr_sk.data import Sequences, inject_noise, leave_one_out_split
from iadsr_sk.experiment import cold_item_mask
from iadsr_sk.semantic import SemanticEmbedder


@pytest.fixture
def cross(load_benchmark):
    return load_benchmark("cross_backbone")


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--backbones", "sasrec", "bert4rec"], "unknown backbone 'bert4rec'"),
        (["--stage1-backbone", "nope"], "unknown backbone 'nope'"),
        (["--removal-rate", "1"], "--removal-rate 1: "),
        (["--noise-rate", "0"], "--noise-rate must be in (0, 1)"),
        (["--align-epochs", "0"], "--align-epochs must be >= 1"),
    ],
)
def test_options_are_refused_before_any_data_is_read(cross, capsys, option, message):
    with pytest.raises(SystemExit) as exit_:
        cross.main(["--dataset", "no-such-dataset", *option])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_each_backbone_learns_from_the_noisy_and_the_cut_histories(
    cross, monkeypatch, tmp_path
):
    rng = np.random.default_rng(3)
    histories = [list(rng.choice(25, size=8, replace=False)) for _ in range(36)]
    split = leave_one_out_split(Sequences.from_lists(histories))
    train, noise = inject_noise(split.train, 0.25, mode="insert", random_state=1)
    cold = cold_item_mask(split.train)[train.codes]
    monkeypatch.setattr(cross, "noisy_training", lambda args: (split, train, noise, cold))
    ids = split.train.vocabulary.ids
    embeddings = (ids, rng.normal(size=(len(ids), 5)).astype(np.float32))
    monkeypatch.setattr(
        cross,
        "SemanticEmbedder",
        functools.partial(SemanticEmbedder, model="precomputed", embeddings=embeddings),
    )
    trained = []  # (backbone, histories) of every recommender fitted

    def tiny(run):
        class Logged(SequentialRecommender):
            def fit(self, X, y=None, **kwargs):
                trained.append((run.model, X))
                return super().fit(X, y, **kwargs)

        return Logged(run.model, hidden_size=8, max_len=6, max_epochs=1, random_state=0)

    monkeypatch.setattr(cross, "make_recommender", tiny)
    monkeypatch.setattr(sys.modules["_shared"], "make_recommender", tiny)
    out = tmp_path / "cross"
    args = ["--backbones", "sasrec", "gru4rec", "--removal-rate", "0.25"]
    assert cross.main([*args, "--align-epochs", "1", "--out", str(out)]) == 0

    # Stage 1 (sasrec) is also sasrec's noisy run; gru4rec trains on the noisy ones
    assert [name for name, _ in trained] == ["sasrec", "sasrec", "gru4rec", "gru4rec"]
    assert trained[0][1] is train and trained[2][1] is train
    cut = trained[1][1]
    assert trained[3][1].to_lists() == cut.to_lists()
    assert cut.n_interactions == pytest.approx(0.75 * train.n_interactions, abs=1)
    assert len(cut) == len(train)
    payload = json.loads(out.with_suffix(".json").read_text())
    assert [row["backbone"] for row in payload["rows"]] == ["sasrec", "gru4rec"]
    assert payload["audit"]["removed"] == pytest.approx(0.25, abs=1 / train.n_interactions)
    audit = payload["audit"]  # both count the injected positions the cut removed
    n_removed = train.n_interactions - cut.n_interactions
    assert audit["precision"] * n_removed == pytest.approx(audit["recall"] * noise.sum())
    for row in payload["rows"]:
        assert set(row["noisy"]) == set(row["cut"]) == {"test", "valid"}
    assert "| gru4rec |" in out.with_suffix(".md").read_text()


def test_the_sweep_and_this_script_share_one_stage1_pickle(
    load_benchmark, tmp_path, monkeypatch
):
    """A Stage 1 saved by aligner_sweep (``--fit-on noisy``) is what cross_backbone
    loads: the same key, read without training; another seed's is refused."""
    shared = load_benchmark("_shared")
    path = tmp_path / "stage1.pkl"
    settings = dict(
        dataset="beauty", seed=0, noise_rate=0.2, noise_mode="insert",
        noise_sampling="uniform", max_epochs=10, stage1=str(path),
    )  # fmt: skip
    histories = Sequences.from_lists([[1, 2, 3], [2, 3, 4], [3, 4, 1]])
    made = []

    def tiny(run):
        made.append(run.model)
        return SequentialRecommender(hidden_size=8, max_len=4, max_epochs=1)

    monkeypatch.setattr(shared, "make_recommender", tiny)
    log = logging.getLogger("test")
    sweep_args = SimpleNamespace(**settings, fit_on="noisy")
    saved = shared.stage1_recommender(sweep_args, "sasrec", histories, None, log)
    cross_args = SimpleNamespace(**settings)  # cross_backbone has no --fit-on
    loaded = shared.stage1_recommender(cross_args, "sasrec", histories, None, log)
    assert made == ["sasrec"]  # trained once, then read back
    assert loaded.history_ == saved.history_
    other = SimpleNamespace(**{**settings, "seed": 1})
    with pytest.raises(SystemExit, match="holds a backbone of"):
        shared.stage1_recommender(other, "sasrec", histories, None, log)
