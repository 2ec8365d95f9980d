"""The whole method as one scikit-learn Pipeline, with named presets."""

from __future__ import annotations

from sklearn.pipeline import Pipeline

__all__ = ["PIPELINE_PRESETS", "DenoisingPipeline", "make_iadsr_pipeline"]

#: step name -> parameters that a preset sets on that step
PIPELINE_PRESETS = {
    "default": {},
    # the released IADSR scripts: 31 items of history, one next-item target per
    # history (its last item), semantic interests read from history prefixes, one
    # Gumbel sample in the training mask, every user denoised
    "faithful": {
        "semantic": {"mode": "prefix"},
        "collaborative": {"max_len": 31, "train_positions": "last"},
        "align": {"gumbel_noise": "gumbel"},
        "denoise": {"user_gate": -1.0},
    },
}


class DenoisingPipeline(Pipeline):
    """A :class:`~sklearn.pipeline.Pipeline` whose ``score`` follows the held-out
    protocol when its last step is a recommender.

    A plain ``Pipeline.score`` passes each whole sequence, its held-out last item
    included, through the transformers, so a denoiser could remove or replace the
    very item being predicted. Here, as with
    :func:`~iadsr_sk.metrics.make_ranking_scorer`, only the history before each
    sequence's last item passes through the earlier steps (the denoiser), and the
    last step ranks the held-out item against the full catalog: ``score`` is that
    NDCG@10. ``GridSearchCV`` without a ``scoring`` argument therefore tunes the
    denoiser against the recommender trained on its output. A last step without
    ``score_next`` is scored as by ``Pipeline.score``.

    :func:`make_iadsr_pipeline` builds one; everything else is ``Pipeline``'s.

    Parameters
    ----------
    steps : list of (str, estimator) tuples
        The named steps, run in order: each step but the last transforms what it
        receives for the next one, and the last may be a recommender. A step given as
        ``"passthrough"`` is skipped.
    transform_input : list of str or None, default=None
        Names of ``fit`` metadata (other than ``X``) that the earlier steps transform
        before the step that asks for them receives them. Needs metadata routing
        (``sklearn.set_config(enable_metadata_routing=True)``).
    memory : str, object with the joblib.Memory interface or None, default=None
        Cache of the fitted transformers (not of the last step): a directory path or
        a ``joblib.Memory``-like object; ``None`` caches nothing. With a cache, the
        transformers are cloned before fitting, so read the fitted ones through
        ``named_steps``.
    verbose : bool, default=False
        Print how long each step took to fit, as it finishes.
    """

    def score(self, X, y=None, sample_weight=None, **params):
        """NDCG@10 of each sequence's last item, predicted from its denoised history.

        ``y``, ``sample_weight`` and ``params`` are for a last step that is not a
        recommender (passed to ``Pipeline.score``); with a recommender last, they
        must be left out.

        Parameters
        ----------
        X : Sequences or list of item-id lists
            Held-out histories. With a recommender last, each one's last item is the
            target and the items before it the input (see
            :func:`~iadsr_sk.data.next_item_pairs`: sequences with fewer than two
            items are skipped).
        y : None
            Only for a last step without ``score_next``; otherwise giving it raises
            :class:`TypeError`.
        sample_weight : array-like of shape (n_sequences,), optional
            Only for a last step without ``score_next``, as ``y``.
        **params
            Only for a last step without ``score_next``, as ``y``: routed by
            ``Pipeline.score``.

        Returns
        -------
        float
            NDCG@10 with a recommender last; otherwise the last step's ``score``.
        """
        if getattr(self._final_estimator, "score_next", None) is None:
            return super().score(X, y, sample_weight=sample_weight, **params)
        given = [
            name
            for name, value in (("y", y), ("sample_weight", sample_weight))
            if value is not None
        ] + sorted(params)
        if given:
            raise TypeError(
                f"score of a pipeline ending in a recommender takes no {given}: each "
                "sequence's last item is its target"
            )
        from .metrics import make_ranking_scorer

        return make_ranking_scorer("ndcg", 10)(self, X)


def make_iadsr_pipeline(
    recommender=None,
    *,
    preset: str = "default",
    backbone="sasrec",
    embedder="default",
    device: str = "cpu",
    random_state=None,
    verbose: int = 0,
) -> DenoisingPipeline:
    """Build ``semantic -> collaborative -> align -> denoise`` (IADSR) as a Pipeline.

    Parameters
    ----------
    recommender : estimator, optional
        Appended as a last step named ``"recommend"`` (e.g. a
        :class:`~iadsr_sk.SequentialRecommender`); the pipeline's ``score`` is then
        the recommender's NDCG@10 on each sequence's last item, predicted from the
        denoised history before it (see :class:`DenoisingPipeline`), so
        ``GridSearchCV`` can tune the denoiser against it. The recommender is used
        as given: set its own ``random_state`` and ``device``.
    preset : {"default", "faithful"}, default="default"
        ``"faithful"`` sets what the released IADSR scripts do where our defaults
        differ: ``semantic__mode="prefix"``, ``collaborative__max_len=31``,
        ``collaborative__train_positions="last"``. Change any of it afterwards with
        ``set_params``. It is for reproducing those scripts: their prefix mode finds
        injected noise less well than the default item mode, and on Amazon Beauty its
        cut trains no better a recommender than not denoising (see the user guide's
        method page).
    backbone : str, nn.Module or callable, default="sasrec"
        The collaborative backbone (see :class:`~iadsr_sk.CollaborativeEncoder`).
    embedder : str, path or (model, tokenizer), default="default"
        The language model of the :class:`~iadsr_sk.SemanticEmbedder`.
    device : str, default="cpu"
        Where the ``semantic``, ``collaborative`` and ``align`` steps run
        (``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"``); not ``recommender``.
    random_state : int or None, default=None
        Passed to the IADSR steps that have randomness (``collaborative`` and
        ``align``); not to ``recommender``.
    verbose : int, default=0
        Verbosity of the ``semantic``, ``collaborative`` and ``align`` steps (0:
        silent, higher: progress bars); not of ``recommender``.

    Returns
    -------
    DenoisingPipeline

    Examples
    --------
    >>> from iadsr_sk.pipeline import make_iadsr_pipeline
    >>> pipe = make_iadsr_pipeline(preset="faithful", random_state=0)
    >>> [name for name, _ in pipe.steps]
    ['semantic', 'collaborative', 'align', 'denoise']
    >>> pipe.get_params()["collaborative__max_len"]
    31
    """
    from .collaborative import CollaborativeEncoder
    from .denoising import InterestAligner, SequenceDenoiser
    from .semantic import SemanticEmbedder

    if preset not in PIPELINE_PRESETS:
        raise ValueError(
            f"unknown preset {preset!r}; choose from {sorted(PIPELINE_PRESETS)}"
        )
    steps = [
        ("semantic", SemanticEmbedder(model=embedder, device=device, verbose=verbose)),
        (
            "collaborative",
            CollaborativeEncoder(
                backbone, device=device, random_state=random_state, verbose=verbose
            ),
        ),
        (
            "align",
            InterestAligner(device=device, random_state=random_state, verbose=verbose),
        ),
        ("denoise", SequenceDenoiser()),
    ]
    if recommender is not None:
        steps.append(("recommend", recommender))
    pipe = DenoisingPipeline(steps)
    pipe.set_params(
        **{
            f"{step}__{name}": value
            for step, params in PIPELINE_PRESETS[preset].items()
            for name, value in params.items()
        }
    )
    return pipe
