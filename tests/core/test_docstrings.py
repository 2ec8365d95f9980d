"""The public API's docstrings document every parameter (with a type and a
description), have a Returns section where they return something, and describe every
See Also entry, as numpydoc reads them."""

import inspect

import pytest
from numpydoc.validate import validate

import iadsr_sk
from iadsr_sk import (
    baselines,
    collaborative,
    data,
    denoising,
    metrics,
    pipeline,
    semantic,
)

#: parameters documented, typed and described; returns documented; See Also described
CHECKED = {"PR01", "PR02", "PR04", "PR07", "RT01", "SA03", "SA04"}


def _public_objects():
    seen = {}
    modules = (iadsr_sk, data, denoising, collaborative, semantic, metrics, baselines)
    for module in (*modules, pipeline):
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if callable(obj) and hasattr(obj, "__qualname__"):  # not constants
                seen.setdefault(f"{obj.__module__}.{obj.__qualname__}", obj)
    names = []
    for qualname, obj in sorted(seen.items()):
        names.append(qualname)
        if inspect.isclass(obj):
            names += [
                f"{qualname}.{attr}"
                for attr, value in vars(obj).items()
                if not attr.startswith("_")
                and (callable(value) or isinstance(value, (classmethod, staticmethod)))
            ]
    return names


PUBLIC = _public_objects()


def test_the_public_api_is_found():
    assert "iadsr_sk.denoising._aligner.InterestAligner.fit" in PUBLIC
    assert "iadsr_sk.pipeline.make_iadsr_pipeline" in PUBLIC
    assert "iadsr_sk.data._sequences.Sequences.from_lists" in PUBLIC  # a classmethod
    assert len(PUBLIC) > 60


@pytest.mark.parametrize("qualname", PUBLIC)
def test_docstring_documents_parameters_returns_and_references(qualname):
    errors = [
        f"{code}: {message}"
        for code, message in validate(qualname)["errors"]
        if code in CHECKED
    ]
    assert not errors, "\n".join(errors)
