"""Machinery shared by the torch-backed estimators.

- :func:`resolve_device`: ``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"auto"`` or a
  :class:`torch.device`, with clear errors;
- :func:`seed_from_random_state` and :func:`forked_torch_rng`: randomness only through
  ``random_state``. Weight init, dropout and attention dropout draw from torch's global
  generators, so training runs inside :func:`torch.random.fork_rng`, seeded from
  ``random_state``: the caller's global RNG state is saved before and restored after,
  untouched (the library never reseeds it for good);
- :func:`length_batches`: padding-aware batching (rows of similar length together);
- :class:`TorchEstimatorMixin`: the training loop (early stopping on a validation
  score with patience, best weights restored, tqdm progress, bf16 autocast; a fit
  that fails or is interrupted leaves the estimator unfitted) and CPU-safe pickling
  (a model fitted on a GPU unpickles on a CPU-only host). Tensors are pickled as
  plain bytes, not with torch's own tensor pickles, which hold memory addresses: so
  ``joblib.hash`` of a fitted estimator, and of an output that carries one, depends
  only on the model, and ``Pipeline(memory=...)`` reuses a fitted Stage 2 instead of
  refitting it.

Security
--------
A fitted estimator is saved with :mod:`pickle` (or ``joblib``), and unpickling runs
code chosen by whoever wrote the file: load pickled estimators only from sources you
trust, as with any scikit-learn or torch model. Nothing in this package unpickles data
on its own.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import logging
import math
import time
import warnings
from collections.abc import Callable, Iterable

import numpy as np
import torch
from sklearn.utils import check_random_state

__all__ = [
    "TorchEstimatorMixin",
    "clear_fitted_state",
    "forked_torch_rng",
    "length_batches",
    "resolve_device",
    "seed_from_random_state",
    "unfitted_on_failure",
]

logger = logging.getLogger("iadsr_sk")

_DEVICE_CHOICES = "'cpu', 'cuda', 'cuda:N' (N = GPU index), 'auto' or a torch.device"


def cuda_unavailable_reason() -> str | None:
    """Why CUDA cannot be used here, or ``None`` when it can."""
    if torch.cuda.is_available():
        return None
    if torch.version.cuda is None:
        return "this torch build has no CUDA support"
    return "no CUDA GPU is visible"


def resolve_device(device, *, on_missing_cuda: str = "raise") -> torch.device:
    """Turn a ``device`` parameter into a :class:`torch.device`.

    Parameters
    ----------
    device : str or torch.device
        ``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"auto"`` (CUDA when available, else
        CPU) or a :class:`torch.device` of type cpu or cuda.
    on_missing_cuda : {"raise", "warn"}
        What to do when CUDA is asked for but not available: raise a
        :class:`ValueError` (fitting), or warn and use the CPU (unpickling).

    Returns
    -------
    torch.device
    """
    if isinstance(device, torch.device):
        spec = str(device)
    elif isinstance(device, str):
        spec = device.strip().lower()
    else:
        raise TypeError(
            f"device must be a string or torch.device, got {type(device).__name__}"
        )
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(spec)
    except RuntimeError:
        raise ValueError(
            f"unknown device {device!r}; valid choices: {_DEVICE_CHOICES}"
        ) from None
    if resolved.type == "cpu":
        return torch.device("cpu")
    if resolved.type != "cuda":
        raise ValueError(f"unknown device {device!r}; valid choices: {_DEVICE_CHOICES}")
    reason = cuda_unavailable_reason()
    if reason is not None:
        message = (
            f"device={device!r} was requested but CUDA is not available ({reason}, "
            f"torch {torch.__version__}); use device='cpu' or device='auto'"
        )
        if on_missing_cuda == "warn":
            warnings.warn(message + "; using the CPU", RuntimeWarning, stacklevel=3)
            return torch.device("cpu")
        raise ValueError(message)
    index = resolved.index if resolved.index is not None else torch.cuda.current_device()
    if index >= torch.cuda.device_count():
        raise ValueError(
            f"device={device!r}: there are only {torch.cuda.device_count()} CUDA devices"
        )
    return torch.device("cuda", index)


def seed_from_random_state(random_state) -> int:
    """A 63-bit seed drawn from ``random_state`` (None, int or RandomState).

    ``None`` gives a fresh seed from the OS entropy pool on every call.
    """
    if random_state is None:
        return int(np.random.default_rng().integers(2**63 - 1))
    return int(check_random_state(random_state).randint(0, 2**31 - 1))


@contextlib.contextmanager
def forked_torch_rng(seed: int, device: torch.device):
    """Run a block on torch's global generators seeded with ``seed``, then restore them.

    The CPU generator (and, for a CUDA ``device``, that device's generator) is saved,
    seeded, and restored on exit, so the caller's random stream is left as it was.
    """
    cuda_devices = [device.index] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda_devices, device_type="cuda"):
        torch.random.default_generator.manual_seed(seed)
        if cuda_devices:
            torch.cuda.default_generators[device.index].manual_seed(seed)
        yield


def length_batches(
    lengths: np.ndarray, batch_size: int, rng: np.random.Generator | None = None
) -> list[np.ndarray]:
    """Row indices in batches of similar length, so that padding stays small.

    Rows are sorted by length; with ``rng`` (training) rows of equal length are
    shuffled and so is the order of the batches, without ``rng`` (inference) the
    order is deterministic.

    Parameters
    ----------
    lengths : ndarray of int of shape (n_rows,)
    batch_size : int
    rng : numpy.random.Generator, optional

    Returns
    -------
    list of ndarray of int
    """
    lengths = np.asarray(lengths)
    if rng is None:
        order = np.argsort(lengths, kind="stable")
    else:
        order = np.lexsort((rng.random(lengths.size), lengths))
    batches = [order[i : i + batch_size] for i in range(0, order.size, batch_size)]
    if rng is not None:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def make_adam(parameters, device: torch.device, **options) -> torch.optim.Adam:
    """Adam over ``parameters``, with the fused kernel where the device has one.

    The fused kernel updates each parameter in one pass instead of one per
    arithmetic step. Stage 2 at batch 32 spends much of a step updating the full
    item-embedding table, so this matters most there (see
    ``benchmarks/align_throughput.py``). Other devices get torch's default
    implementation.
    """
    fused = True if torch.device(device).type in ("cpu", "cuda") else None
    return torch.optim.Adam(parameters, fused=fused, **options)


def clear_fitted_state(estimator) -> None:
    """Remove every fitted attribute (a name ending in ``_``): the estimator is unfitted.

    Used when a fit fails or is interrupted, so that neither a half-trained model nor
    a mix of an earlier fit's state and the new one can be used by mistake.
    """
    for name in [k for k in vars(estimator) if k.endswith("_") and not k.startswith("__")]:
        delattr(estimator, name)


def unfitted_on_failure(fit):
    """Decorate a ``fit`` method: if it raises, the estimator is left unfitted.

    Whatever stops the fit (a bad parameter, an error in training,
    ``KeyboardInterrupt``) propagates unchanged; the estimator's fitted attributes,
    those of an earlier fit included, are removed first (:func:`clear_fitted_state`).
    """

    @functools.wraps(fit)
    def guarded(self, *args, **kwargs):
        try:
            return fit(self, *args, **kwargs)
        except BaseException:
            clear_fitted_state(self)
            raise

    return guarded


def out_of_memory_error(error: BaseException, where: str, advice: str):
    """A :class:`torch.OutOfMemoryError` that says where memory ran out and what to try."""
    return torch.OutOfMemoryError(f"out of memory {where}; {advice} ({error})")


class TorchEstimatorMixin:
    """Training loop and pickling for estimators holding a torch ``module_``.

    The estimator provides the parameters ``device``, ``mixed_precision``,
    ``random_state`` and ``verbose``, and calls :meth:`_train_loop` from ``fit``. It
    sets ``module_``, ``optimizer_`` and ``device_``; the loop sets ``history_``,
    ``best_epoch_``, ``n_epochs_`` and ``seconds_per_epoch_``.

    A fit that fails or is interrupted (a non-finite loss, running out of memory,
    ``KeyboardInterrupt``, ...) re-raises and leaves the estimator unfitted; see
    :meth:`_train_loop`.
    """

    #: fitted attributes holding torch modules: moved to the CPU when pickled
    _torch_modules = ("module_",)
    #: what the loop monitors (higher is better)
    _monitor = "valid_ndcg@10"

    # ------------------------------------------------------------------ device
    def _autocast(self):
        """bf16 autocast on ``device_`` when ``mixed_precision`` is on, else a no-op."""
        return torch.autocast(
            device_type=self.device_.type,
            dtype=torch.bfloat16,
            enabled=bool(self.mixed_precision),
        )

    def _syncs_are_free(self) -> bool:
        """Whether reading a value computed on ``device_`` costs nothing (the CPU).

        Then training stops at the first non-finite batch; on a GPU the check waits
        for the end of the epoch, so that no batch waits on the device.
        """
        return self.device_.type == "cpu"

    # -------------------------------------------------------------- training loop
    def _train_loop(
        self,
        *,
        make_batches: Callable[[np.random.Generator], Iterable],
        batch_loss: Callable[[object], tuple[torch.Tensor, int]],
        validate: Callable[[], dict] | None,
        max_epochs: int,
        patience: int | None,
        rng: np.random.Generator,
    ) -> None:
        """Train ``module_`` with ``optimizer_``; early stopping on ``_monitor``.

        Parameters
        ----------
        make_batches : callable
            ``make_batches(rng)`` -> the batches of one epoch.
        batch_loss : callable
            ``batch_loss(batch)`` -> ``(mean loss tensor, number of trained
            positions)``; it runs under autocast when ``mixed_precision`` is on.
        validate : callable or None
            ``validate()`` -> dict of validation metrics (containing ``_monitor``),
            run after every epoch in eval mode. ``None``: no early stopping, the last
            epoch's weights are kept.
        max_epochs, patience : int
            Stop after ``max_epochs``, or after ``patience`` epochs in a row without a
            better validation score; the best epoch's weights are then restored.

        Raises
        ------
        FloatingPointError
            The loss of a batch is NaN or infinite. The message names the epoch and
            the batch (1-based, in the epoch's batch order).
        torch.OutOfMemoryError
            The device ran out of memory in a training step or in validation. The
            message names the step and suggests a smaller ``batch_size``.

        Notes
        -----
        **Faults.** When training stops with an exception (one of the above, an error
        of ``batch_loss``, or ``KeyboardInterrupt``), the exception propagates and the
        estimator is left *unfitted*: every fitted attribute, those of an earlier fit
        included, is removed (:func:`clear_fitted_state`), so ``check_is_fitted``
        raises and no half-trained weights can be used by mistake. There is no
        "last good epoch" to fall back on; fit again (with ``max_epochs`` as a cap)
        instead. The caller's global random state is restored either way.
        """
        try:
            self._run_epochs(
                make_batches=make_batches,
                batch_loss=batch_loss,
                validate=validate,
                max_epochs=max_epochs,
                patience=patience,
                rng=rng,
            )
        except BaseException:
            clear_fitted_state(self)
            raise

    def _run_epochs(self, *, make_batches, batch_loss, validate, max_epochs, patience, rng):
        """The body of :meth:`_train_loop` (which undoes the fit when this raises)."""
        from tqdm.auto import tqdm

        module, optimizer = self.module_, self.optimizer_
        verbose = int(self.verbose or 0)
        stop_at_once = self._syncs_are_free()
        self.history_ = []
        best_score, best_epoch, best_state = -math.inf, 0, None
        epochs = tqdm(
            range(1, max_epochs + 1),
            desc=type(self).__name__,
            unit="epoch",
            disable=verbose < 1,
            leave=True,
        )
        try:
            for epoch in epochs:
                module.train()
                batches = list(make_batches(rng))
                started = time.perf_counter()
                total_loss = torch.zeros((), device=self.device_)
                # index and loss of the epoch's first non-finite batch, kept on the
                # device: watching every batch costs no device sync
                first_bad = torch.full((), -1.0, device=self.device_)
                bad_loss = torch.zeros((), device=self.device_)
                n_positions = 0
                for index, batch in enumerate(
                    tqdm(batches, desc=f"epoch {epoch}", leave=False, disable=verbose < 2)
                ):
                    try:
                        with self._autocast():
                            loss, n = batch_loss(batch)
                        optimizer.zero_grad(set_to_none=True)
                        loss.backward()
                        optimizer.step()
                    except torch.OutOfMemoryError as error:
                        raise out_of_memory_error(
                            error,
                            f"in {type(self).__name__}.fit, epoch {epoch}, batch "
                            f"{index + 1} of {len(batches)}",
                            f"try a smaller batch_size (now "
                            f"{getattr(self, 'batch_size', '?')}), a shorter max_len or "
                            "mixed_precision=True",
                        ) from error
                    value = loss.detach().float()
                    new_bad = ~torch.isfinite(value) & (first_bad < 0)
                    first_bad = torch.where(new_bad, float(index), first_bad)
                    bad_loss = torch.where(new_bad, value, bad_loss)
                    total_loss += value * n
                    n_positions += n
                    if stop_at_once and first_bad >= 0:
                        break
                # one sync per epoch
                total, bad_index, bad_value = torch.stack(
                    [total_loss, first_bad, bad_loss]
                ).tolist()
                if bad_index >= 0:
                    raise FloatingPointError(
                        f"the training loss became {bad_value} at epoch {epoch}, batch "
                        f"{int(bad_index) + 1} of {len(batches)}; lower learning_rate, "
                        "turn mixed_precision off, or check the inputs for NaN or inf"
                    )
                mean_loss = total / max(n_positions, 1)
                if self.device_.type == "cuda":
                    torch.cuda.synchronize(self.device_)
                seconds = time.perf_counter() - started
                if not math.isfinite(mean_loss):
                    raise FloatingPointError(
                        f"the training loss became {mean_loss} at epoch {epoch}; lower "
                        "learning_rate or turn mixed_precision off"
                    )
                record = {
                    "epoch": epoch,
                    "loss": mean_loss,
                    "n_positions": n_positions,
                    "seconds": seconds,
                    "positions_per_second": n_positions / max(seconds, 1e-9),
                }
                if validate is not None:
                    module.eval()
                    valid_started = time.perf_counter()
                    try:
                        record.update(validate())
                    except torch.OutOfMemoryError as error:
                        raise out_of_memory_error(
                            error,
                            f"in {type(self).__name__}.fit, validating epoch {epoch}",
                            "set a smaller inference_batch_size on the estimator",
                        ) from error
                    record["valid_seconds"] = time.perf_counter() - valid_started
                self.history_.append(record)
                score = record.get(self._monitor, math.nan)
                if validate is None or score > best_score:
                    best_score, best_epoch = score, epoch
                    if validate is not None:
                        best_state = {
                            k: v.detach().clone() for k, v in module.state_dict().items()
                        }
                epochs.set_postfix(
                    loss=f"{mean_loss:.4f}",
                    **(
                        {self._monitor: f"{score:.4f}", "best": best_epoch}
                        if validate
                        else {}
                    ),
                )
                logger.debug("epoch %d: %s", epoch, record)
                if (
                    validate is not None
                    and patience is not None
                    and epoch - best_epoch >= patience
                ):
                    break
        finally:
            epochs.close()
        if best_state is not None:
            module.load_state_dict(best_state)
        module.eval()
        self.best_epoch_ = best_epoch
        self.n_epochs_ = len(self.history_)
        self.seconds_per_epoch_ = float(np.mean([r["seconds"] for r in self.history_]))

    # ---------------------------------------------------------------- pickling
    def __getstate__(self):
        state = dict(super().__getstate__())
        for name in self._torch_modules:
            module = state.get(name)
            if module is not None:
                state[name] = _PickledModule(module)
        optimizer = state.pop("optimizer_", None)
        if optimizer is not None:
            state["_optimizer_pickle"] = {
                "class": type(optimizer),
                "defaults": optimizer.defaults,
                "state_dict": _to_arrays(optimizer.state_dict()),
            }
        if "device_" in state:
            state["device_"] = torch.device("cpu")
        return state

    def __setstate__(self, state):
        state = dict(state)
        saved_optimizer = state.pop("_optimizer_pickle", None)
        for name in self._torch_modules:
            if isinstance(state.get(name), _PickledModule):
                state[name] = state[name].module()
        if saved_optimizer is not None:
            saved_optimizer["state_dict"] = _from_arrays(saved_optimizer["state_dict"])
        super().__setstate__(state)
        if "device_" not in state:
            return
        # the device is re-resolved on the host that loads the model: a model fitted
        # on a GPU loads on a CPU-only machine (with a warning)
        self.device_ = resolve_device(self.device, on_missing_cuda="warn")
        for name in self._torch_modules:
            if getattr(self, name, None) is not None:
                getattr(self, name).to(self.device_)
        if saved_optimizer is not None and getattr(self, "module_", None) is not None:
            optimizer = saved_optimizer["class"](
                self.module_.parameters(), **saved_optimizer["defaults"]
            )
            optimizer.load_state_dict(saved_optimizer["state_dict"])
            self.optimizer_ = optimizer


class _TensorArray:
    """A tensor as plain bytes (a NumPy array), dtype, shape and ``requires_grad``.

    Pickles to the same bytes for equal tensors (a torch tensor's pickle holds the
    address of its storage). Any dtype, bfloat16 included, is kept bit for bit.
    """

    def __init__(self, tensor: torch.Tensor):
        self.requires_grad = bool(tensor.requires_grad)
        tensor = tensor.detach().to("cpu").contiguous()
        self.dtype = str(tensor.dtype).removeprefix("torch.")
        self.shape = tuple(tensor.shape)
        self.data = tensor.reshape(-1).view(torch.uint8).numpy().copy()

    def tensor(self) -> torch.Tensor:
        flat = torch.from_numpy(self.data.copy()).view(getattr(torch, self.dtype))
        return flat.reshape(self.shape)


class _Slot:
    """Where a parameter or buffer sat in a pickled module (see _PickledModule)."""

    def __init__(self, index: int):
        self.index = index


class _PickledModule:
    """A torch module in a pickle-stable form: its structure, and its tensors as bytes.

    The module is copied with every parameter, buffer and plain tensor attribute
    replaced by a :class:`_Slot` (a tensor held in several places, as tied weights or
    a copy of a buffer kept beside it are, becomes one slot), and the tensors are kept
    as :class:`_TensorArray`. :meth:`module` rebuilds it on the CPU, with the same
    sharing, ``requires_grad`` flags and train/eval modes.
    """

    def __init__(self, module: torch.nn.Module):
        tensors: dict[int, torch.Tensor] = {}
        memo: dict[int, object] = {}
        for sub in module.modules():
            # parameters and buffers, then tensors kept as plain attributes
            for table in (sub._parameters, sub._buffers, vars(sub)):
                for value in table.values():
                    if isinstance(value, torch.Tensor) and id(value) not in memo:
                        memo[id(value)] = _Slot(len(tensors))
                        tensors[id(value)] = value
        # deepcopy takes the slots from the memo in place of the tensors
        self.skeleton = copy.deepcopy(module, memo)
        self.parameter = [isinstance(t, torch.nn.Parameter) for t in tensors.values()]
        self.arrays = [_TensorArray(t) for t in tensors.values()]

    def module(self) -> torch.nn.Module:
        module = self.skeleton
        rebuilt: dict[int, torch.Tensor] = {}

        def tensor(slot):
            if slot.index not in rebuilt:
                value = self.arrays[slot.index].tensor()
                requires_grad = self.arrays[slot.index].requires_grad
                if self.parameter[slot.index]:
                    value = torch.nn.Parameter(value, requires_grad=requires_grad)
                elif requires_grad:
                    value.requires_grad_(True)
                rebuilt[slot.index] = value
            return rebuilt[slot.index]

        for sub in module.modules():
            for table in (sub._parameters, sub._buffers, vars(sub)):
                for key, value in list(table.items()):
                    if isinstance(value, _Slot):
                        table[key] = tensor(value)
        return module


def _to_arrays(value):
    """An optimizer's state with every tensor as a :class:`_TensorArray`."""
    if isinstance(value, torch.Tensor):
        return _TensorArray(value)
    if isinstance(value, dict):
        return {k: _to_arrays(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_arrays(v) for v in value)
    return value


def _from_arrays(value):
    """Undo :func:`_to_arrays` (tensors on the CPU)."""
    if isinstance(value, _TensorArray):
        return value.tensor()
    if isinstance(value, dict):
        return {k: _from_arrays(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_from_arrays(v) for v in value)
    return value
