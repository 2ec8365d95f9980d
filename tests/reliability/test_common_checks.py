"""scikit-learn's common estimator checks over every public estimator.

sklearn's checks feed numeric feature matrices (``X`` of shape ``(n_samples,
n_features)``). The estimators here take item-id sequences, or the previous pipeline
step's output, and reject a matrix with a ``TypeError`` that says what to pass
instead. Every check that fails only for that reason is listed below, with its
reason, as an expected failure (strict: a listed check that starts passing fails the
run, so the list stays true). Everything else must pass.

``SemanticEmbedder`` declares ``input_tags.two_d_array = False`` (its input is
sequences with item text), and for such estimators sklearn runs only the clone check.
So that nothing is skipped silently, the data-free sklearn checks are run on it
directly below, and :func:`test_api_contract_on_sequences` runs the checks that need
data, with sequences, on every estimator.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from reliability_data import (
    HISTORIES,
    collaborative_view,
    every_estimator,
    noise_scores,
)
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import estimator_checks, get_tags
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.validation import check_is_fitted

from iadsr_sk.denoising import InterestAligner, SequenceDenoiser
from iadsr_sk.semantic import SemanticEmbedder

SEQUENCES = (
    "input is item-id sequences (a Sequences or a list of item-id lists), not a "
    "numeric feature matrix; a matrix is rejected with a TypeError"
)
PREVIOUS_STEP = (
    "input is the previous pipeline step's output ({}), not a numeric feature "
    "matrix; anything else is rejected with a TypeError"
)

#: checks that fit or transform a numeric feature matrix
_MATRIX_CHECKS = {
    "check_fit_score_takes_y": None,
    "check_estimators_overwrite_params": None,
    "check_dont_overwrite_parameters": None,
    "check_estimators_fit_returns_self": None,
    "check_readonly_memmap_input": None,
    "check_n_features_in_after_fitting": "n_features_in_ has no meaning for sequences",
    "check_positive_only_tag_during_fit": None,
    "check_estimators_dtypes": None,
    "check_complex_data": None,
    "check_dtype_object": "an object array of floats holds no item ids",
    "check_estimators_empty_data_messages": (
        "an empty matrix is still a matrix: TypeError, before its size is looked at"
    ),
    "check_pipeline_consistency": None,
    "check_estimators_nan_inf": "a float matrix is refused before NaN could matter",
    "check_estimators_pickle": None,
    "check_f_contiguous_array_estimator": None,
    "check_methods_sample_order_invariance": None,
    "check_methods_subset_invariance": None,
    "check_fit2d_1sample": None,
    "check_fit2d_1feature": None,
    "check_dict_unchanged": None,
    "check_fit_idempotent": None,
    "check_fit_check_is_fitted": None,
    "check_n_features_in": "n_features_in_ has no meaning for sequences",
    "check_fit1d": (
        "a 1-d array is not a list of histories: TypeError (the check wants ValueError)"
    ),
    "check_fit2d_predict1d": None,
}
_TRANSFORMER_CHECKS = {
    "check_transformer_data_not_an_array": (
        "an array-like that is not a list of histories is rejected"
    ),
    "check_transformer_general": None,
    "check_transformer_preserve_dtypes": "the output is sequences, not a float matrix",
}
_SPARSE_CHECKS = ("check_estimator_sparse_tag", "check_estimator_sparse_array")
_SPARSE_CHECKS += ("check_estimator_sparse_matrix",)


def expected_failures(estimator) -> dict[str, str]:
    """``{check name: reason}`` of the sklearn checks that ``estimator`` fails."""
    if isinstance(estimator, (InterestAligner, SequenceDenoiser)):
        upstream = (
            "CollaborativeInterests"
            if isinstance(estimator, InterestAligner)
            else "NoiseScores"
        )
        reason = PREVIOUS_STEP.format(upstream)
        names = [*_MATRIX_CHECKS, *_TRANSFORMER_CHECKS, *_SPARSE_CHECKS]
        return dict.fromkeys(names, reason)
    checks = dict(_MATRIX_CHECKS)
    if hasattr(estimator, "transform"):
        checks.update(_TRANSFORMER_CHECKS)
    return {
        name: SEQUENCES if detail is None else f"{SEQUENCES}; {detail}"
        for name, detail in checks.items()
    }


@parametrize_with_checks(
    every_estimator(), expected_failed_checks=expected_failures, xfail_strict=True
)
def test_sklearn_common_checks(estimator, check):
    check(estimator)


def test_every_public_estimator_is_checked():
    import iadsr_sk
    from iadsr_sk import baselines

    public = {
        name
        for name in [*iadsr_sk._EXPORTS, *baselines.__all__]
        if isinstance(getattr(iadsr_sk, name, None) or getattr(baselines, name), type)
        and hasattr(getattr(iadsr_sk, name, None) or getattr(baselines, name), "fit")
    }
    assert public == {type(e).__name__ for e in every_estimator()}


# ---------------------------------------------------------------- SemanticEmbedder
_DATA_FREE_CHECKS = [
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_no_attributes_set_in_init",
    "check_valid_tag_types",
    "check_estimator_tags_renamed",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_mixin_order",
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
]


def test_semantic_embedder_declares_no_matrix_input():
    # the reason sklearn runs only its clone check on this estimator
    assert not get_tags(SemanticEmbedder()).input_tags.two_d_array


@pytest.mark.parametrize("check_name", _DATA_FREE_CHECKS)
def test_semantic_embedder_data_free_sklearn_checks(check_name):
    check = getattr(estimator_checks, check_name)
    estimator = every_estimator()[0]
    assert isinstance(estimator, SemanticEmbedder)
    check(type(estimator).__name__, estimator)


# ------------------------------------------------ the API contract, with sequences
@pytest.fixture(scope="module")
def inputs():
    """What each estimator fits on: sequences, or the previous step's output."""
    collaborative = collaborative_view()
    scores = noise_scores()
    return {
        "InterestAligner": collaborative,
        "SequenceDenoiser": scores,
    }


def _input_of(estimator, inputs):
    return inputs.get(type(estimator).__name__, HISTORIES)


def _output(estimator, X):
    """A comparable array of what the fitted estimator gives for ``X``."""
    if hasattr(estimator, "score_next"):
        return estimator.score_next(X)
    out = estimator.transform(X)
    if isinstance(estimator, InterestAligner):
        return out.scores
    if hasattr(out, "short_term"):
        return out.short_term
    if hasattr(out, "to_lists"):
        out = out.to_lists()
    return np.array([x for row in out for x in row] + [len(row) for row in out])


def _use(estimator, X):
    if hasattr(estimator, "score_next"):
        return estimator.predict(X, k=2)
    return estimator.transform(X)


@pytest.mark.parametrize("estimator", every_estimator(), ids=lambda e: type(e).__name__)
def test_api_contract_on_sequences(estimator, inputs):
    X = _input_of(estimator, inputs)
    params = estimator.get_params()

    # unfitted: using it raises NotFittedError
    with pytest.raises(NotFittedError):
        _use(estimator, X)
    with pytest.raises(NotFittedError):
        check_is_fitted(estimator)

    # fit returns self, changes no parameter, adds only fitted (trailing _) attributes
    before = set(vars(estimator))
    assert estimator.fit(X) is estimator
    assert estimator.get_params().keys() == params.keys()
    for name, value in params.items():
        assert estimator.get_params()[name] is value, name
    added = set(vars(estimator)) - before
    assert all(name.endswith("_") or name.startswith("_") for name in added), added
    check_is_fitted(estimator)
    first = _output(estimator, X)

    # a clone is unfitted and has the same parameters
    twin = clone(estimator)
    with pytest.raises(NotFittedError):
        check_is_fitted(twin)
    assert twin.get_params().keys() == params.keys()

    # fitting again with the same random_state gives the same model (idempotent)
    np.testing.assert_allclose(_output(twin.fit(X), X), first, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_output(estimator.fit(X), X), first, rtol=1e-5, atol=1e-6)

    # a pickle round trip keeps the fitted model
    restored = pickle.loads(pickle.dumps(estimator))
    np.testing.assert_allclose(_output(restored, X), first, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    "estimator",
    [e for e in every_estimator() if hasattr(e, "transform")],
    ids=lambda e: type(e).__name__,
)
def test_set_output_keeps_the_output_or_says_why_it_cannot(estimator, inputs):
    """Output configuration that changes nothing is accepted; a table is refused with
    a short message naming the step and what it returns, never the estimator's repr."""
    for transform in (None, "default"):
        assert estimator.set_output(transform=transform) is estimator
    X = _input_of(estimator, inputs)
    first = _output(estimator.fit(X), X)
    for transform in ("pandas", "polars"):
        with pytest.raises(ValueError) as error:
            estimator.set_output(transform=transform)
        message = str(error.value)
        assert message.startswith(f"{type(estimator).__name__}.transform returns ")
        assert f"set_output(transform={transform!r}) cannot apply" in message
        assert len(message) < 300
    np.testing.assert_array_equal(_output(estimator, X), first)


def test_pipeline_set_output_default_is_accepted_and_pandas_refused_clearly():
    from reliability_data import tiny_aligner, tiny_embedder, tiny_encoder
    from sklearn.pipeline import Pipeline

    pipe = Pipeline(
        [
            ("semantic", tiny_embedder()),
            ("collaborative", tiny_encoder()),
            ("align", tiny_aligner()),
            ("denoise", SequenceDenoiser()),
        ]
    )
    assert pipe.set_output(transform="default") is pipe
    assert pipe.fit(HISTORIES).transform(HISTORIES) == pipe.fit_transform(HISTORIES)
    with pytest.raises(ValueError, match=r"^SemanticEmbedder\.transform returns Semantic"):
        pipe.set_output(transform="pandas")
