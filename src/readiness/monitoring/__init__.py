"""Drift of a current sample against a reference."""
