"""Drift of a current sample against a reference, and model quality from the prediction log."""
