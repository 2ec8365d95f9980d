"""Pickles that record the package version and warn when loaded by another version.

Every public estimator inherits :class:`VersionedPickleMixin`, so ``joblib.dump`` /
``pickle.dump`` of a fitted estimator or Pipeline stores the ``iadsr_sk`` version that
fitted it, and loading it under a different version warns with
:class:`InconsistentPackageVersionWarning` (the model may still load, but results are
not guaranteed to match).

Security: unpickling runs code chosen by whoever wrote the file. Load pickles only
from sources you trust, exactly as with any scikit-learn or torch model.
"""

from __future__ import annotations

import inspect
import warnings

__all__ = ["InconsistentPackageVersionWarning", "VersionedPickleMixin"]

_STATE_KEY = "_iadsr_sk_version"


class InconsistentPackageVersionWarning(UserWarning):
    """A pickled estimator was fitted with another version of ``iadsr_sk``."""

    def __init__(self, *, estimator_name: str, original_version, current_version: str):
        self.estimator_name = estimator_name
        self.original_version = original_version
        self.current_version = current_version

    def __str__(self) -> str:
        return (
            f"{self.estimator_name} was pickled by iadsr_sk "
            f"{self.original_version or '(unknown version)'} and is loaded by "
            f"{self.current_version}; it may behave differently or break. Refit it, or "
            f"load it with iadsr_sk=={self.original_version}."
        )


class VersionedPickleMixin:
    """Adds the package version to the pickled state; warns on a mismatch."""

    def __getstate__(self):
        from . import __version__

        state = dict(super().__getstate__())
        state[_STATE_KEY] = __version__
        return state

    def __setstate__(self, state):
        from . import __version__

        state = dict(state)
        saved = state.pop(_STATE_KEY, None)
        if saved != __version__:
            warnings.warn(
                InconsistentPackageVersionWarning(
                    estimator_name=type(self).__name__,
                    original_version=saved,
                    current_version=__version__,
                ),
                stacklevel=2,
            )
        super().__setstate__(state)
        # a parameter added after the pickle was written takes its default, which is
        # the behaviour the estimator had before the parameter existed
        for name, default in _parameter_defaults(type(self)).items():
            if name not in self.__dict__:
                setattr(self, name, default)


def _parameter_defaults(cls) -> dict:
    """``{name: default}`` of the constructor parameters of ``cls`` with a default."""
    init = cls.__init__
    if init is object.__init__:
        return {}
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return {
        name: parameter.default
        for name, parameter in inspect.signature(init).parameters.items()
        if parameter.kind in kinds and parameter.default is not inspect.Parameter.empty
    }
