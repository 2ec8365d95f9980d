"""Collaborative side of IADSR: sequential recommenders and the Stage-1 encoder."""

from ._encoder import CollaborativeEncoder, CollaborativeInterests
from ._recommender import SequentialRecommender

__all__ = ["CollaborativeEncoder", "CollaborativeInterests", "SequentialRecommender"]
