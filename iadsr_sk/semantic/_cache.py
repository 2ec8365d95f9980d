"""On-disk cache of text embeddings: one SQLite file, one checksummed row per text.

Why SQLite (from the standard library): a lookup of any subset of keys is an index
read, so a warm refit of 12k texts takes a fraction of a second whatever the cache's
size; every write is an atomic transaction, so an interrupted run leaves either the old
or the new rows, never half a row; and several processes (cross-validation with
``n_jobs``) can read and write the same cache at once.

A row is ``(key, vector, checksum)``: ``key`` is the 32-byte SHA-256 of the embedding
settings (model identity, pooling, prompt, ...) and the text; ``vector`` the float32
bytes; ``checksum`` a CRC-32 of key and vector. A row whose checksum does not match is
reported on the ``"iadsr_sk"`` logger, deleted and recomputed; a file that is not a
readable database (truncated, overwritten, or a database of another layout) is moved
aside (``*.corrupt``) and a fresh one started. The cache
never makes a fit fail: when it cannot be used, the run goes on without it, with a
warning.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sqlite3
import time
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["EmbeddingCache", "settings_digest", "text_keys"]

logger = logging.getLogger("iadsr_sk")

_FORMAT_VERSION = "1"
_FILE_NAME = "embeddings.sqlite3"
# SQLite's limit on bound parameters is 999 in old builds; stay below it
_CHUNK = 900


def settings_digest(settings: Sequence[tuple[str, object]]) -> bytes:
    """SHA-256 of the ``(name, value)`` pairs that change what a text embeds to."""
    digest = hashlib.sha256(b"iadsr_sk-embedding-cache-v" + _FORMAT_VERSION.encode())
    for name, value in settings:
        digest.update(f"\x00{name}={value!r}".encode())
    return digest.digest()


def text_keys(namespace: bytes, texts: Sequence[str]) -> list[bytes]:
    """Cache key of every text: SHA-256 of the settings digest and the UTF-8 text."""
    sha256 = hashlib.sha256
    return [sha256(namespace + text.encode("utf-8")).digest() for text in texts]


def _checksum(key: bytes, blob: bytes) -> int:
    return zlib.crc32(blob, zlib.crc32(key))


class EmbeddingCache:
    """Persistent ``key -> float32 vector`` store in ``directory``.

    Parameters
    ----------
    directory : str or path-like
        Created on first use with user-only permissions (``0o700``); the database file
        is created ``0o600``.
    """

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory).expanduser()
        self.path = self.directory / _FILE_NAME

    def __repr__(self) -> str:
        return f"EmbeddingCache({str(self.directory)!r})"

    # ----------------------------------------------------------------- plumbing
    def _prepare_directory(self) -> None:
        if not self.directory.is_dir():
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            # mkdir's mode is filtered by the umask; make the intent exact
            os.chmod(self.directory, 0o700)
        if not self.path.exists():
            descriptor = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(descriptor)

    def _connect(self) -> sqlite3.Connection:
        self._prepare_directory()
        connection = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
        try:
            # larger pages keep a vector inline with its row (no overflow pages): reads
            # are several times faster and the file half the size; only applies to a
            # new, empty file
            connection.execute("PRAGMA page_size = 16384")
            connection.execute(
                "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT)"
            )
            connection.execute(
                "CREATE TABLE IF NOT EXISTS vectors "
                "(key BLOB PRIMARY KEY, vector BLOB NOT NULL, checksum INTEGER NOT NULL)"
            )
            columns = [row[1] for row in connection.execute("PRAGMA table_info(vectors)")]
            if columns != ["key", "vector", "checksum"]:
                # a database, but not one this cache wrote: treat it as a corrupt file
                raise sqlite3.DatabaseError(
                    f"its 'vectors' table has columns {columns}, not an embedding cache"
                )
            row = connection.execute(
                "SELECT value FROM meta WHERE name = 'format'"
            ).fetchone()
            if row is None:
                connection.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('format', ?)", (_FORMAT_VERSION,)
                )
            elif row[0] != _FORMAT_VERSION:
                logger.warning(
                    "embedding cache %s has format %s, this version writes %s; "
                    "starting it afresh",
                    self.path,
                    row[0],
                    _FORMAT_VERSION,
                )
                connection.execute("DELETE FROM vectors")
                connection.execute(
                    "UPDATE meta SET value = ? WHERE name = 'format'", (_FORMAT_VERSION,)
                )
        except BaseException:
            connection.close()
            raise
        return connection

    def _move_aside(self, error: Exception) -> None:
        target = self.path.with_name(f"{_FILE_NAME}.{time.time_ns()}.corrupt")
        logger.warning(
            "embedding cache %s is unreadable (%s); moved it to %s and started a new "
            "one (its vectors will be recomputed)",
            self.path,
            error,
            target.name,
        )
        with contextlib.suppress(OSError):
            os.replace(self.path, target)
        for suffix in ("-journal", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                os.remove(str(self.path) + suffix)

    def _run(self, operation, what: str, default):
        """Run ``operation(connection)``; recover once from a corrupt file, else warn."""
        for attempt in range(2):
            try:
                connection = self._connect()
                try:
                    return operation(connection)
                finally:
                    connection.close()
            except sqlite3.DatabaseError as error:
                message = str(error)
                corrupt = not isinstance(error, sqlite3.OperationalError) or (
                    "not a database" in message or "malformed" in message
                )
                if corrupt and attempt == 0:
                    self._move_aside(error)
                    continue
                logger.warning("embedding cache %s: %s failed (%s)", self.path, what, error)
            except OSError as error:
                logger.warning("embedding cache %s: %s failed (%s)", self.path, what, error)
            return default
        return default

    # --------------------------------------------------------------------- API
    def get(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """Vectors stored under ``keys`` (absent and corrupt keys are left out)."""
        if not len(keys):
            return {}
        keys = list(keys)

        def read(connection: sqlite3.Connection) -> dict[bytes, np.ndarray]:
            found: dict[bytes, np.ndarray] = {}
            corrupt: list[bytes] = []
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = connection.execute(
                    f"SELECT key, vector, checksum FROM vectors WHERE key IN ({marks})",
                    chunk,
                )
                for key, blob, checksum in rows:
                    if (
                        not isinstance(blob, bytes)
                        or not blob
                        or len(blob) % 4
                        or _checksum(key, blob) != checksum
                    ):
                        corrupt.append(key)
                        continue
                    found[key] = np.frombuffer(blob, dtype="<f4")
            if corrupt:
                logger.warning(
                    "embedding cache %s: %d corrupt entr%s (checksum mismatch) "
                    "discarded; recomputing %s",
                    self.path,
                    len(corrupt),
                    "y" if len(corrupt) == 1 else "ies",
                    "it" if len(corrupt) == 1 else "them",
                )
                connection.execute("BEGIN IMMEDIATE")
                connection.executemany(
                    "DELETE FROM vectors WHERE key = ?", [(k,) for k in corrupt]
                )
                connection.execute("COMMIT")
            return found

        return self._run(read, "reading", {})

    def put(self, keys: Sequence[bytes], vectors: np.ndarray) -> bool:
        """Store ``vectors[i]`` under ``keys[i]``, all in one atomic transaction.

        Returns whether they were stored (a failure is warned about, not raised).
        """
        if not len(keys):
            return True
        vectors = np.ascontiguousarray(vectors, dtype="<f4")
        rows = []
        for key, vector in zip(keys, vectors, strict=True):
            blob = vector.tobytes()
            rows.append((key, blob, _checksum(key, blob)))

        def write(connection: sqlite3.Connection) -> None:
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.executemany(
                    "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)", rows
                )
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
            return True

        return self._run(write, "writing", False)

    def __len__(self) -> int:
        return self._run(
            lambda c: c.execute("SELECT COUNT(*) FROM vectors").fetchone()[0], "counting", 0
        )

    def clear(self) -> None:
        """Delete every stored vector."""

        def wipe(connection: sqlite3.Connection) -> None:
            connection.execute("DELETE FROM vectors")
            connection.execute("VACUUM")

        self._run(wipe, "clearing", None)
