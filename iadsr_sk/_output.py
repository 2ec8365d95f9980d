"""scikit-learn's ``set_output`` for steps whose output is not a table of features."""

from __future__ import annotations

__all__ = ["FixedOutputMixin"]


class FixedOutputMixin:
    """``set_output`` that accepts what changes nothing and refuses the rest clearly.

    The package's transformers return sequences or interests, not a feature matrix,
    so there is nothing for pandas or polars to wrap. ``Pipeline.set_output`` calls
    every step's ``set_output``; without one, scikit-learn refuses even
    ``transform="default"`` with a message that prints the whole estimator.
    Subclasses name what ``transform`` returns in ``_transform_returns``.
    """

    _transform_returns = "its own output type"

    def set_output(self, *, transform=None):
        """Configure the output of ``transform``: it can only stay as it is.

        Parameters
        ----------
        transform : {"default"} or None, default=None
            ``"default"`` and ``None`` change nothing. ``"pandas"`` and
            ``"polars"`` raise :class:`ValueError`: the output is not a table.

        Returns
        -------
        self : estimator
        """
        if transform is None or transform == "default":
            return self
        raise ValueError(
            f"{type(self).__name__}.transform returns {self._transform_returns}, not a "
            f"table of features, so set_output(transform={transform!r}) cannot apply "
            "to it; leave its output as it is (transform='default')"
        )
