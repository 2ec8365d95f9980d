"""The whole method as one scikit-learn Pipeline, with named presets."""

from __future__ import annotations

from sklearn.pipeline import Pipeline

__all__ = ["PIPELINE_PRESETS", "make_iadsr_pipeline"]

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


def make_iadsr_pipeline(
    recommender=None,
    *,
    preset: str = "default",
    backbone="sasrec",
    embedder="default",
    device: str = "cpu",
    random_state=None,
    verbose: int = 0,
) -> Pipeline:
    """Build ``semantic -> collaborative -> align -> denoise`` (IADSR) as a Pipeline.

    Parameters
    ----------
    recommender : estimator, optional
        Appended as a last step named ``"recommend"`` (e.g. a
        :class:`~iadsr_sk.SequentialRecommender`); the pipeline's ``score`` is then
        the recommender's NDCG@10 on the next item, so ``GridSearchCV`` can tune the
        denoiser against it.
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
    random_state : int or None, default=None
        Passed to every step that has randomness.
    verbose : int, default=0

    Returns
    -------
    Pipeline

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
    pipe = Pipeline(steps)
    pipe.set_params(
        **{
            f"{step}__{name}": value
            for step, params in PIPELINE_PRESETS[preset].items()
            for name, value in params.items()
        }
    )
    return pipe
