"""A fitted pipeline saved and loaded with joblib / pickle; the package version travels
with it, and a model fitted on a GPU loads on a CPU-only host."""

import copy
import io
import pickle
import sys
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
import torch
from sklearn.pipeline import Pipeline

import iadsr_sk
from iadsr_sk import (
    CollaborativeEncoder,
    MarkovChain,
    MostPopular,
    RandomDropper,
    SemanticEmbedder,
    SequenceDenoiser,
    SequentialRecommender,
)
from iadsr_sk._persistence import InconsistentPackageVersionWarning
from iadsr_sk.denoising import InterestAligner

sys.path.insert(0, str(Path(__file__).parents[1] / "denoising"))
from stage2_data import topic_sequences

TINY = dict(hidden_size=8, max_len=6, max_epochs=2, patience=None, validation=None)


@pytest.fixture(scope="module")
def fitted_pipeline():
    seqs, _ = topic_sequences(n_users=30)
    rng = np.random.default_rng(0)
    table = (seqs.vocabulary.ids, rng.normal(size=(seqs.n_items, 6)).astype(np.float32))
    pipe = Pipeline(
        [
            ("semantic", SemanticEmbedder("precomputed", embeddings=table)),
            ("collaborative", CollaborativeEncoder("gru4rec", random_state=0, **TINY)),
            ("align", InterestAligner(n_epochs=1, random_state=0)),
            ("denoise", SequenceDenoiser(threshold=0.55)),
        ]
    ).fit(seqs)
    return pipe, seqs


def test_joblib_round_trip_of_a_fitted_pipeline(fitted_pipeline, tmp_path):
    pipe, seqs = fitted_pipeline
    path = tmp_path / "iadsr.joblib"
    joblib.dump(pipe, path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InconsistentPackageVersionWarning)
        loaded = joblib.load(path)
    expected = pipe[:-1].transform(seqs).scores
    np.testing.assert_allclose(loaded[:-1].transform(seqs).scores, expected, atol=1e-6)
    assert loaded.transform(seqs).to_lists() == pipe.transform(seqs).to_lists()


@pytest.mark.parametrize(
    "estimator",
    [
        MostPopular(),
        MarkovChain(),
        SequentialRecommender("gru4rec", **TINY),
        CollaborativeEncoder("gru4rec", **TINY),
        RandomDropper(rate=0.2, random_state=0),
    ],
    ids=lambda e: type(e).__name__,
)
def test_pickles_record_the_version_and_warn_on_a_mismatch(estimator, monkeypatch):
    histories = [[1, 2, 3, 4], [2, 3, 4, 1], [3, 4, 1, 2]] * 3
    payload = pickle.dumps(estimator.fit(histories))
    with warnings.catch_warnings():
        warnings.simplefilter("error", InconsistentPackageVersionWarning)
        pickle.loads(payload)  # same version: silent
    monkeypatch.setattr(iadsr_sk, "__version__", "99.0")
    with pytest.warns(InconsistentPackageVersionWarning) as record:
        pickle.loads(payload)
    messages = [str(w.message) for w in record]
    # inner objects (e.g. an encoder's recommender) warn too, under their own names
    assert any(m.startswith(type(estimator).__name__) for m in messages)
    assert all("0.1.0" in m and "99.0" in m for m in messages)


def test_every_pipeline_step_records_the_version(fitted_pipeline, monkeypatch):
    pipe, _ = fitted_pipeline
    payload = pickle.dumps(pipe)
    monkeypatch.setattr(iadsr_sk, "__version__", "99.0")
    with pytest.warns(InconsistentPackageVersionWarning) as record:
        pickle.loads(payload)
    warned = {w.message.estimator_name for w in record}
    assert warned == {
        "SemanticEmbedder",
        "CollaborativeEncoder",
        "SequentialRecommender",
        "InterestAligner",
        "SequenceDenoiser",
    }


def test_pipeline_fitted_for_cuda_loads_on_a_cpu_only_host(fitted_pipeline):
    if torch.cuda.is_available():
        pytest.skip("simulates a CPU-only host; test_gpu_fitted_pipeline covers GPUs")
    pipe, seqs = fitted_pipeline
    copy = pickle.loads(pickle.dumps(pipe))
    # as if fitted with device="cuda" on a GPU host
    copy.set_params(collaborative__device="cuda", align__device="cuda")
    copy["collaborative"].recommender_.device = "cuda"
    copy["align"].recommender_.device = "cuda"
    with pytest.warns(RuntimeWarning, match="CUDA is not available"):
        loaded = pickle.loads(pickle.dumps(copy))
    assert loaded["align"].device_ == torch.device("cpu")
    assert loaded.transform(seqs).to_lists() == pipe.transform(seqs).to_lists()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_fitted_pipeline_pickles_to_cpu_tensors(tmp_path):
    """Fitted on a GPU, the pickle holds CPU tensors, so a CPU-only host can load it."""
    seqs, _ = topic_sequences(n_users=30)
    pipe = Pipeline(
        [
            ("collaborative", CollaborativeEncoder("gru4rec", device="cuda", **TINY)),
            ("align", InterestAligner(variant="collab_only", n_epochs=1, device="cuda")),
            ("denoise", SequenceDenoiser()),
        ]
    ).fit(seqs)
    devices = []

    class TensorFinder(pickle.Pickler):
        def reducer_override(self, obj):
            if isinstance(obj, torch.Tensor):
                devices.append(obj.device.type)
            return NotImplemented

    TensorFinder(io.BytesIO()).dump(pipe)
    assert all(device == "cpu" for device in devices)
    # the backbone is pickled once, by the aligner's recommender
    assert pipe["align"].__getstate__()["module_"] is None
    path = tmp_path / "gpu.joblib"
    joblib.dump(pipe, path)
    loaded = joblib.load(path)
    assert loaded.transform(seqs).to_lists() == pipe.transform(seqs).to_lists()


class _Tied(torch.nn.Module):
    """Tied weights, a frozen parameter, a bfloat16 buffer and a non-persistent one."""

    def __init__(self):
        super().__init__()
        self.a = torch.nn.Linear(3, 3)
        self.b = torch.nn.Linear(3, 3)
        self.b.weight = self.a.weight
        self.frozen = torch.nn.Parameter(torch.randn(2), requires_grad=False)
        self.register_buffer("low", torch.randn(4).to(torch.bfloat16))
        self.register_buffer("mask", torch.tensor([True, False]), persistent=False)
        # plain tensor attributes: one holding a buffer (as rotary embeddings keep
        # their original frequencies), one of its own
        self.original_low = self.low
        self.plain = torch.arange(3.0)


def test_pickled_modules_keep_sharing_dtypes_flags_and_modes():
    from iadsr_sk._base import _PickledModule

    module = _Tied().eval()
    saved = pickle.dumps(_PickledModule(module))
    again = pickle.dumps(_PickledModule(module))
    assert saved == again  # no memory address in the bytes
    loaded = pickle.loads(saved).module()
    assert loaded.b.weight is loaded.a.weight
    assert not loaded.training and not loaded.frozen.requires_grad
    assert loaded.a.weight.requires_grad
    assert loaded.low.dtype == torch.bfloat16 and torch.equal(loaded.low, module.low)
    assert loaded.mask.tolist() == [True, False] and "mask" not in loaded.state_dict()
    for name, tensor in module.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor), name
    assert loaded.original_low is loaded.low
    assert isinstance(loaded.plain, torch.Tensor) and loaded.plain.tolist() == [0, 1, 2]
    assert pickle.dumps(_PickledModule(copy.deepcopy(module))) == saved


def test_a_pickle_from_before_a_parameter_existed_loads_with_its_default(
    fitted_pipeline, monkeypatch
):
    """An aligner pickled before ``interest_size`` existed (its state lacks it) loads
    with the default, which computes what it computed then: repr, get_params, clone
    and transform all work."""
    from sklearn.base import clone

    pipe, seqs = fitted_pipeline
    written_by = InterestAligner.__getstate__

    def without_interest_size(self):
        state = written_by(self)
        state.pop("interest_size")
        return state

    monkeypatch.setattr(InterestAligner, "__getstate__", without_interest_size)
    payload = pickle.dumps(pipe)
    monkeypatch.undo()
    loaded = pickle.loads(payload)
    aligner = loaded.named_steps["align"]
    assert aligner.get_params()["interest_size"] is None
    assert "InterestAligner" in repr(loaded)
    assert clone(aligner).interest_size is None
    np.testing.assert_array_equal(
        loaded[:-1].transform(seqs).scores, pipe[:-1].transform(seqs).scores
    )
