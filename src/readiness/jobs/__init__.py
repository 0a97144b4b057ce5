"""Notebook jobs: papermill runs, parameters, batches, executors, reproduction."""
