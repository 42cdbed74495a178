"""Gradient checking samples that put script into the pages instructors and students open (issue 11)."""

from .model import Sample  # noqa: F401

PAGE_ATTACKS: list = []
