"""Stage 2 of IADSR: InterestAligner (joint alignment training, noise scores) and
SequenceDenoiser (the keep rule), plus random dropping as a floor."""

from ._aligner import VARIANTS, InterestAligner
from ._denoiser import NoiseScores, SequenceDenoiser
from ._random import RandomDropper

__all__ = [
    "VARIANTS",
    "InterestAligner",
    "NoiseScores",
    "RandomDropper",
    "SequenceDenoiser",
]
