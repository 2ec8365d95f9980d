"""The whole method as a scikit-learn Pipeline, with a stand-in semantic step."""

import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from stage2_data import FakeSemantic, topic_sequences

from iadsr_sk._base import TorchEstimatorMixin
from iadsr_sk.collaborative import CollaborativeEncoder, SequentialRecommender
from iadsr_sk.data import Sequences, UserKFold, as_sequences
from iadsr_sk.denoising import InterestAligner, SequenceDenoiser
from iadsr_sk.metrics import make_ranking_scorer


class TopicVectors(TransformerMixin, BaseEstimator):
    """Item vectors that cluster by topic: what a language model would give."""

    def __init__(self, dim=12, per_topic=8):
        self.dim = dim
        self.per_topic = per_topic

    def fit(self, X, y=None):
        seqs = as_sequences(X)
        rng = np.random.default_rng(0)
        centres = rng.normal(size=(10, self.dim))
        topic = seqs.vocabulary.ids // self.per_topic
        self.vectors_ = (
            centres[topic] + 0.3 * rng.normal(size=(seqs.n_items, self.dim))
        ).astype(np.float32)
        self.vocabulary_ = seqs.vocabulary
        return self

    def transform(self, X):
        seqs = as_sequences(X, vocabulary=self.vocabulary_)
        short = self.vectors_[seqs.codes]
        long = np.add.reduceat(short, seqs.offsets[:-1], axis=0) / seqs.lengths[:, None]
        out = FakeSemantic(seqs, short, long.astype(np.float32))
        out.source = X
        return out


# the Stage-1 encoder and the final recommender train the same small backbone
TINY_BACKBONE = dict(
    hidden_size=16, max_len=8, max_epochs=3, patience=None, validation=None, random_state=0
)


def make_pipeline(with_recommender=False):
    steps = [
        ("semantic", TopicVectors()),
        (
            "collaborative",
            CollaborativeEncoder("gru4rec", **TINY_BACKBONE),
        ),
        ("align", InterestAligner(n_epochs=3, random_state=0, learning_rate=3e-3)),
        ("denoise", SequenceDenoiser()),
    ]
    if with_recommender:
        steps.append(
            (
                "recommend",
                SequentialRecommender("gru4rec", **TINY_BACKBONE),
            )
        )
    return Pipeline(steps)


def test_pipeline_fit_transform_on_new_users():
    seqs, _ = topic_sequences(n_users=60)
    lists = seqs.to_lists()
    pipe = make_pipeline().fit(lists)
    new_users, _ = topic_sequences(n_users=9, seed=5)
    new_lists = new_users.to_lists()
    before = [list(r) for r in new_lists]
    out = pipe.transform(new_lists)
    assert new_lists == before  # the input is untouched
    assert isinstance(out, list) and len(out) == len(new_lists)
    for original, kept in zip(new_lists, out, strict=True):
        it = iter(original)
        assert all(x in it for x in kept)  # a subsequence, order kept
        assert len(kept) >= 1
    assert isinstance(pipe.transform(new_users), Sequences)


def test_pipeline_with_recommender_scores_and_grid_search():
    seqs, _ = topic_sequences(n_users=60)
    pipe = make_pipeline(with_recommender=True).fit(seqs)
    score = pipe.score(seqs)
    assert 0.0 <= score <= 1.0
    search = GridSearchCV(
        make_pipeline(with_recommender=True),
        {"denoise__threshold": [0.3, 0.5]},
        cv=UserKFold(2, random_state=0),
        scoring=make_ranking_scorer("ndcg", 10),
    ).fit(seqs)
    assert set(search.cv_results_["param_denoise__threshold"]) == {0.3, 0.5}
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    with pytest.raises(TypeError, match="no score_next"):
        make_ranking_scorer()(make_pipeline().fit(seqs), seqs)


def _precomputed_grid_search(seqs, n_jobs):
    """GridSearchCV over the whole method with a real (precomputed) semantic step."""
    from iadsr_sk.semantic import SemanticEmbedder

    table = (seqs.vocabulary.ids, TopicVectors().fit(seqs).vectors_)
    pipe = Pipeline(
        [
            ("semantic", SemanticEmbedder("precomputed", embeddings=table)),
            ("collaborative", CollaborativeEncoder("gru4rec", **TINY_BACKBONE)),
            ("align", InterestAligner(n_epochs=2, random_state=0)),
            ("denoise", SequenceDenoiser()),
            ("recommend", SequentialRecommender("gru4rec", **TINY_BACKBONE)),
        ]
    )
    return GridSearchCV(
        pipe,
        {"denoise__threshold": [0.4, 0.6]},
        cv=UserKFold(2, random_state=0),
        scoring=make_ranking_scorer("ndcg", 10),
        n_jobs=n_jobs,
    ).fit(seqs)


def test_grid_search_in_two_loky_workers_matches_one_process():
    """GridSearchCV(n_jobs=2) under joblib's loky backend: every estimator pickles,
    trains in a worker process and gives the same scores as in this process."""
    seqs, _ = topic_sequences(n_users=40)
    parallel = _precomputed_grid_search(seqs, n_jobs=2)
    serial = _precomputed_grid_search(seqs, n_jobs=1)
    np.testing.assert_allclose(
        parallel.cv_results_["mean_test_score"],
        serial.cv_results_["mean_test_score"],
        rtol=1e-5,
        atol=1e-7,
    )


def test_grid_search_on_a_dask_cluster_matches_one_process(tmp_path):
    """The same search under joblib's dask backend, on a two-process LocalCluster."""
    import dask
    import joblib
    from distributed import Client, LocalCluster

    seqs, _ = topic_sequences(n_users=40)
    serial = _precomputed_grid_search(seqs, n_jobs=1)
    with (
        dask.config.set({"temporary-directory": str(tmp_path)}),  # scratch space
        LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
        joblib.parallel_backend("dask"),
    ):
        on_dask = _precomputed_grid_search(seqs, n_jobs=-1)
        assert len(client.scheduler_info()["workers"]) == 2
    np.testing.assert_allclose(
        on_dask.cv_results_["mean_test_score"],
        serial.cv_results_["mean_test_score"],
        rtol=1e-5,
        atol=1e-7,
    )


def test_denoising_pipeline_scores_only_the_history_through_the_denoiser():
    """``DenoisingPipeline.score`` is the held-out protocol of make_ranking_scorer: a
    denoiser that removes half of every history never sees the held-out item."""
    from sklearn.base import clone

    from iadsr_sk.pipeline import DenoisingPipeline

    seqs, _ = topic_sequences(n_users=60)
    pipe = DenoisingPipeline(make_pipeline(with_recommender=True).steps)
    pipe.set_params(denoise__removal_rate=0.5)
    pipe.fit(seqs)
    denoised = pipe[:-1].transform(seqs).to_lists()
    changed = sum(a[-1] != b[-1] for a, b in zip(seqs.to_lists(), denoised, strict=True))
    assert changed > 0  # a whole-sequence transform would move these targets
    assert pipe.score(seqs) == make_ranking_scorer("ndcg", 10)(pipe, seqs)
    with pytest.raises(TypeError, match="takes no \\['y'\\]"):
        pipe.score(seqs, [1] * len(seqs))
    assert type(clone(pipe)) is DenoisingPipeline
    # GridSearchCV without scoring uses that score
    grid = {"denoise__removal_rate": [0.2, 0.5]}
    cv = UserKFold(2, random_state=0)
    default = GridSearchCV(clone(pipe), grid, cv=cv).fit(seqs)
    explicit = GridSearchCV(
        clone(pipe), grid, cv=cv, scoring=make_ranking_scorer("ndcg", 10)
    ).fit(seqs)
    np.testing.assert_array_equal(
        default.cv_results_["mean_test_score"], explicit.cv_results_["mean_test_score"]
    )


def test_make_iadsr_pipeline_builds_a_denoising_pipeline():
    from iadsr_sk import make_iadsr_pipeline
    from iadsr_sk.pipeline import DenoisingPipeline

    recommender = SequentialRecommender("gru4rec")
    pipe = make_iadsr_pipeline(recommender, random_state=3)
    assert isinstance(pipe, DenoisingPipeline)
    assert pipe.get_params()["align__random_state"] == 3
    # the recommender is used as given
    assert pipe.named_steps["recommend"] is recommender
    assert recommender.random_state is None


def test_pickles_of_fitted_stages_do_not_depend_on_memory_addresses():
    """torch writes a tensor's storage address into its pickle; the fitted estimators
    pickle their tensors as bytes, so equal models hash equal (``joblib.hash``)."""
    seqs, _ = topic_sequences(n_users=40)
    pipe = make_pipeline().fit(seqs)
    for name in ("collaborative", "align"):
        step = pipe.named_steps[name]
        copy = pickle.loads(pickle.dumps(step))
        assert joblib.hash(copy) == joblib.hash(step)
    restored = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(
        restored.named_steps["align"].transform(restored[:2].transform(seqs)).scores,
        pipe.named_steps["align"].transform(pipe[:2].transform(seqs)).scores,
    )


def test_pipeline_memory_reuses_stage_1_and_stage_2_when_only_the_keep_rule_changes(
    tmp_path, monkeypatch
):
    seqs, _ = topic_sequences(n_users=40)
    trained = []
    train_loop = TorchEstimatorMixin._train_loop

    def counting(self, **kwargs):
        trained.append(type(self).__name__)
        return train_loop(self, **kwargs)

    monkeypatch.setattr(TorchEstimatorMixin, "_train_loop", counting)
    pipe = make_pipeline().set_params(memory=str(tmp_path))
    pipe.fit(seqs)
    for rate in (0.1, 0.3):
        out = pipe.set_params(denoise__removal_rate=rate).fit(seqs).transform(seqs)
        assert out.n_interactions < seqs.n_interactions
    # each torch stage trained once; the refits read them from the cache
    assert sorted(trained) == ["InterestAligner", "SequentialRecommender"]
    monkeypatch.undo()
    fresh = make_pipeline().set_params(denoise__removal_rate=0.3).fit(seqs)
    assert fresh.transform(seqs).to_lists() == out.to_lists()
