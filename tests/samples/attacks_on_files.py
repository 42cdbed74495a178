"""Gradient checking samples that attack the grader through the submission's files and metadata (issue 11)."""

from .model import Sample  # noqa: F401

FILE_ATTACKS: list = []
