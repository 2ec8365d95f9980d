"""SequentialRecommender: learning, reproducibility, pickling, sklearn API, bad input."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from iadsr_sk.collaborative import SequentialRecommender
from iadsr_sk.collaborative._recommender import training_windows
from iadsr_sk.data import Sequences, UserKFold, leave_one_out_split
from iadsr_sk.nn import BACKBONES, SequentialBackbone

NAMES = sorted(BACKBONES)


def cyclic_histories(n_users=24, length=12, seed=0):
    """Users walking one of three item cycles from a random phase: fully predictable."""
    rng = np.random.default_rng(seed)
    cycles = [[1, 2, 3, 4], [5, 6, 7, 8, 9], [10, 11, 12]]
    histories = []
    for user in range(n_users):
        cycle = cycles[user % 3]
        phase = int(rng.integers(len(cycle)))
        histories.append([cycle[(phase + j) % len(cycle)] for j in range(length)])
    return histories


def tiny(backbone="gru4rec", **params):
    defaults = dict(
        hidden_size=16,
        max_len=6,
        batch_size=8,
        learning_rate=1e-2,
        max_epochs=3,
        dropout=0.0,
        random_state=0,
        validation=None,
    )
    defaults.update(params)
    return SequentialRecommender(backbone, **defaults)


@pytest.fixture(scope="module")
def histories():
    return cyclic_histories()


@pytest.fixture(scope="module")
def fitted(histories):
    return tiny("sasrec", max_epochs=4, validation="last_item").fit(histories)


# ----------------------------------------------------------------- learning
# epochs each backbone needs on the cycles, with a margin (deterministic on the CPU)
OVERFIT_EPOCHS = {"caser": 20, "fmlprec": 25, "gru4rec": 25, "sasrec": 35}


@pytest.mark.parametrize("name", NAMES)
def test_overfits_cycles_to_hr1(name, histories):
    model = tiny(
        name,
        max_epochs=OVERFIT_EPOCHS[name],
        backbone_params={"window": 3} if name == "caser" else None,
    )
    model.fit(histories)
    seqs = Sequences.from_lists(histories)
    metrics = model.evaluate(seqs.head(1), seqs.last_codes(), ks=[1])
    assert metrics["hr@1"] == 1.0
    assert model.predict([[1, 2, 3]], k=1).tolist() == [[4]]
    assert model.history_[-1]["loss"] < model.history_[0]["loss"]


def test_fitted_attributes(fitted, histories):
    assert fitted.vocabulary_.n_items == 12
    assert isinstance(fitted.module_, SequentialBackbone)
    assert not fitted.module_.training
    assert isinstance(fitted.optimizer_, torch.optim.Adam)
    # the fused kernel: one pass over each parameter per step
    assert fitted.optimizer_.defaults["fused"] is True
    assert fitted.device_ == torch.device("cpu")
    assert fitted.n_epochs_ == len(fitted.history_) == 4
    assert 1 <= fitted.best_epoch_ <= fitted.n_epochs_
    assert fitted.seconds_per_epoch_ > 0
    # validation="last_item": each user's last item held out, 11 items -> 10 positions
    assert fitted.n_validation_ == len(histories)
    assert fitted.n_train_positions_ == len(histories) * 10
    # 10 inputs, max_len 6, stride 3: windows start at 0, 3 and 4
    assert fitted.n_train_sequences_ == len(histories) * 3
    record = fitted.history_[0]
    assert {"epoch", "loss", "seconds", "valid_ndcg@10", "valid_hr@10"} <= set(record)
    scores = fitted.score_next([[1, 2], [5]])
    assert scores.shape == (2, 12) and scores.dtype == np.float32


def test_best_epoch_weights_are_restored(histories):
    split = leave_one_out_split(histories)
    model = tiny("gru4rec", max_epochs=6, learning_rate=0.05, patience=None)
    model.fit(split.train, eval_set=(split.valid_input, split.valid_target))
    best = model.history_[model.best_epoch_ - 1]["valid_ndcg@10"]
    assert best == max(r["valid_ndcg@10"] for r in model.history_)
    metrics = model.evaluate(split.valid_input, split.valid_target)
    assert metrics["ndcg@10"] == pytest.approx(best, abs=1e-9)
    assert model.n_validation_ == len(split.valid_input)


def test_early_stopping_stops(histories):
    split = leave_one_out_split(histories)
    model = tiny("gru4rec", max_epochs=50, learning_rate=0.05, patience=2)
    model.fit(split.train, eval_set=(split.valid_input, split.valid_target))
    assert model.n_epochs_ < 50
    assert model.n_epochs_ - model.best_epoch_ == 2


def test_validation_modes(histories):
    none = tiny(validation=None, max_epochs=2).fit(histories)
    assert "valid_ndcg@10" not in none.history_[0]
    assert none.best_epoch_ == none.n_epochs_ == 2
    assert none.n_validation_ == 0
    share = tiny(validation=0.25, max_epochs=1).fit(histories)
    assert share.n_validation_ == 6
    assert share.n_train_positions_ == 18 * 11


def test_eval_set_as_item_ids(histories):
    inputs = [h[:-1] for h in histories[:5]]
    targets = [h[-1] for h in histories[:5]]
    model = tiny(max_epochs=1).fit(histories, eval_set=(inputs, targets))
    assert model.n_validation_ == 5
    with pytest.raises(KeyError):
        tiny(max_epochs=1).fit(histories, eval_set=(inputs, [99] * 5))
    with pytest.raises(ValueError, match="pair"):
        tiny(max_epochs=1).fit(histories, eval_set=inputs)


def test_long_histories_are_windowed():
    history = list(range(1, 31)) * 2  # 60 items, max_len 6
    model = tiny(max_len=6, max_epochs=1).fit([history, history[::-1]])
    assert model.n_train_positions_ == 2 * 59
    assert model.score_next([history]).shape == (1, 30)


def test_training_windows_cover_every_position_once():
    lengths = np.array([1, 2, 5, 7, 23])
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    starts, sizes, train_from = training_windows(offsets, lengths, max_len=5, stride=2)
    trained, context = [], []
    for start, size, first in zip(starts, sizes, train_from, strict=True):
        for j in range(first, size):
            trained.append(start + j)
            context.append(j + 1)
    row_of = np.repeat(np.arange(lengths.size), lengths)
    is_last = np.arange(lengths.sum()) == offsets[1:][row_of] - 1
    expected = np.flatnonzero(~is_last)  # every position that has a next item
    assert sorted(trained) == expected.tolist()
    assert min(np.array(context)[np.array(trained) >= offsets[4] + 5]) >= 5 - 2 + 1
    assert sizes.max() == 5


# ---------------------------------------------------------- reproducibility
def test_same_random_state_same_model(histories):
    a = tiny("sasrec", dropout=0.3, random_state=7).fit(histories)
    b = tiny("sasrec", dropout=0.3, random_state=7).fit(histories)
    c = tiny("sasrec", dropout=0.3, random_state=8).fit(histories)
    np.testing.assert_array_equal(a.score_next(histories), b.score_next(histories))
    assert [r["loss"] for r in a.history_] == [r["loss"] for r in b.history_]
    assert not np.array_equal(a.score_next(histories), c.score_next(histories))


def test_global_rng_untouched(histories):
    torch_state = torch.random.get_rng_state()
    numpy_state = np.random.get_state()[1].copy()  # noqa: NPY002
    tiny("sasrec", dropout=0.3, random_state=1).fit(histories)
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    np.testing.assert_array_equal(np.random.get_state()[1], numpy_state)  # noqa: NPY002


# ----------------------------------------------------------------- pickling
def test_pickle_round_trip(fitted, histories):
    loaded = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(
        loaded.score_next(histories), fitted.score_next(histories)
    )
    assert loaded.history_ == fitted.history_
    assert loaded.optimizer_.param_groups[0]["params"][0] is next(
        loaded.module_.parameters()
    )
    # the optimizer state survives: training can go on
    assert len(loaded.optimizer_.state) == len(fitted.optimizer_.state)


def test_pickle_from_cuda_loads_on_cpu(fitted, histories):
    """A model pickled with device='cuda' re-resolves its device on load."""
    if torch.cuda.is_available():
        pytest.skip("needs a host without CUDA")
    model = pickle.loads(pickle.dumps(fitted))
    model.device = "cuda"  # as if fitted on a GPU host
    with pytest.warns(RuntimeWarning, match="CUDA is not available"):
        loaded = pickle.loads(pickle.dumps(model))
    assert loaded.device_ == torch.device("cpu")
    np.testing.assert_array_equal(
        loaded.score_next(histories), fitted.score_next(histories)
    )


# ------------------------------------------------------------- sklearn API
def test_clone_get_set_params(fitted):
    params = fitted.get_params()
    assert params["backbone"] == "sasrec" and params["max_len"] == 6
    copy = clone(fitted)
    assert not hasattr(copy, "module_")
    assert copy.get_params() == params
    copy.set_params(hidden_size=8, backbone="caser")
    assert copy.hidden_size == 8 and copy.backbone == "caser"


def test_grid_search_with_user_folds(histories):
    search = GridSearchCV(
        tiny(max_epochs=2),
        {"hidden_size": [8, 16]},
        cv=UserKFold(n_splits=2, random_state=0),
    )
    search.fit(Sequences.from_lists(histories))
    assert search.best_params_["hidden_size"] in (8, 16)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_custom_module_and_factory(histories):
    class LastItem(SequentialBackbone):
        """Embedding of the current item only: the smallest causal backbone."""

        def forward(self, items):
            return self.embed_items(items)

    model = tiny(LastItem(12, 16), max_epochs=2).fit(histories)
    assert model.module_ is not model.backbone
    assert model.predict([[1]], k=2).shape == (1, 2)

    def factory(n_items, hidden_size, **_):
        return LastItem(n_items, hidden_size)

    assert tiny(factory, max_epochs=1).fit(histories).module_.n_items == 12
    with pytest.raises(ValueError, match="n_items"):
        tiny(LastItem(5, 16), max_epochs=1).fit(histories)

    class PlainModule(torch.nn.Module):
        """Not a SequentialBackbone: only forward, score and the attributes."""

        def __init__(self, n_items, hidden_size):
            super().__init__()
            self.n_items, self.hidden_size = n_items, hidden_size
            self.item_embedding = torch.nn.Embedding(n_items + 1, hidden_size, 0)

        def forward(self, items):
            return self.item_embedding(items)

        def score(self, hidden):  # padding column left unmasked: dropped by the model
            return hidden @ self.item_embedding.weight.T

    plain = tiny(PlainModule, max_epochs=3).fit(histories)  # a class is a factory
    assert plain.score_next([[1]]).shape == (1, 12)
    assert plain.history_[-1]["loss"] < plain.history_[0]["loss"]
    with pytest.raises(TypeError, match="lacks"):
        tiny(lambda **_: torch.nn.Linear(2, 2), max_epochs=1).fit(histories)


# --------------------------------------------------------------- bad input
def test_unknown_item_at_predict_raises(fitted):
    with pytest.raises(KeyError):
        fitted.predict([[1, 999]])


def test_empty_sequence_raises(fitted, histories):
    with pytest.raises(ValueError, match="empty"):
        fitted.predict([[1, 2], []])
    with pytest.raises(ValueError, match="empty"):
        tiny().fit([[1, 2], []])


def test_no_training_pair_raises():
    with pytest.raises(ValueError, match="2 items"):
        tiny().fit([[1], [2]])


def test_bad_device_names_choices(histories):
    with pytest.raises(ValueError, match="'cpu', 'cuda'"):
        tiny(device="tpu").fit(histories)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a host without CUDA")
def test_cuda_without_cuda_is_a_clear_error(histories):
    with pytest.raises(ValueError, match="CUDA is not available"):
        tiny(device="cuda").fit(histories)


def test_bad_params_raise(histories):
    with pytest.raises(ValueError):
        tiny(backbone="bert4rec").fit(histories)
    with pytest.raises(ValueError):
        tiny(max_len=0).fit(histories)
    with pytest.raises(ValueError):
        tiny(validation=1.5).fit(histories)


def test_not_fitted_raises():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        tiny().predict([[1]])


def test_mixed_precision_and_verbose_run(histories, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # CPU autocast may warn about unsupported ops
        model = tiny("sasrec", mixed_precision=True, max_epochs=1, verbose=2).fit(histories)
    assert model.score_next([[1, 2]]).dtype == np.float32
    assert "SequentialRecommender" in capsys.readouterr().err


def test_next_item_loss_equals_the_softmax_over_real_items(fitted):
    # the training loss takes logits against the whole table with the padding column
    # at -inf; loss and gradients must equal those of the real items' logits alone
    module = fitted.module_
    weight = module.item_embedding.weight
    g = torch.Generator().manual_seed(0)
    hidden = torch.randn(6, module.hidden_size, generator=g, requires_grad=True)
    targets = torch.randint(0, module.n_items, (6,), generator=g)
    loss = fitted._next_item_loss(hidden, targets)
    reference = torch.nn.functional.cross_entropy(module.score(hidden)[:, 1:], targets)
    torch.testing.assert_close(loss, reference)
    got = torch.autograd.grad(loss, [hidden, weight])
    expected = torch.autograd.grad(reference, [hidden, weight])
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a, b)
    assert not got[1][0].any()  # the padding row gets no gradient
