"""Security: a private embedding cache, no code execution from data, local models only.

Also covered elsewhere: the cache folder made by a ``SemanticEmbedder`` fit is
``0o700`` and its file ``0o600`` (``tests/semantic/test_cache.py``); the command line
refuses a missing, folder or unwritable path before any work
(``test_bad_inputs.py``, the ``test_cli_*`` cases).
"""

from __future__ import annotations

import ast
import os
import stat
from pathlib import Path

import numpy as np
import pytest

import iadsr_sk
from iadsr_sk.semantic._cache import EmbeddingCache, settings_digest, text_keys

PACKAGE = Path(iadsr_sk.__file__).parent


@pytest.fixture
def permissive_umask():
    """umask 0: anything left to the default would be world-writable."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def test_the_cache_is_private_whatever_the_umask(tmp_path, permissive_umask):
    directory = tmp_path / "cache" / "embeddings"
    cache = EmbeddingCache(directory)
    cache.put(text_keys(settings_digest([("model", "m")]), ["a text"]), np.ones((1, 3)))
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(cache.path.stat().st_mode) == 0o600
    assert len(cache) == 1


def _package_sources():
    return sorted(PACKAGE.rglob("*.py"))


def _calls(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            owner = (
                getattr(func.value, "id", None) if isinstance(func, ast.Attribute) else None
            )
            yield node, name, owner


def test_no_eval_exec_or_unpickling_in_the_package():
    found = []
    for path in _package_sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node, name, owner in _calls(tree):
            builtin = isinstance(node.func, ast.Name) and name in (
                "eval",
                "exec",
                "compile",
            )
            loads = owner in ("pickle", "joblib", "dill", "marshal") and name in (
                "load",
                "loads",
            )
            torch_load = owner == "torch" and name == "load"
            if builtin or loads or torch_load:
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {name}")
    assert found == []


def test_language_models_load_from_local_files_without_remote_code():
    checked = 0
    for path in _package_sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node, name, _ in _calls(tree):
            if name != "from_pretrained":
                continue
            keywords = {k.arg: k.value for k in node.keywords}
            where = f"{path.relative_to(PACKAGE)}:{node.lineno}"
            local = keywords.get("local_files_only")
            assert isinstance(local, ast.Constant) and local.value is True, where
            remote = keywords.get("trust_remote_code")
            assert remote is None or (isinstance(remote, ast.Constant) and not remote.value)
            checked += 1
    assert checked >= 1


def test_pickling_docstrings_warn_about_untrusted_files():
    from iadsr_sk import _base

    assert "Security" in _base.__doc__ and "trust" in _base.__doc__
