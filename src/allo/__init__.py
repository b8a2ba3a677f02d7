"""Allo: an open-source, self-hostable multi-site contact center."""

__version__ = "0.1.0"
