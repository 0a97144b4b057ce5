"""The one exception family of readiness.

Every failure a user can cause or fix raises a subclass of :class:`ReadinessError`.
Front ends turn them into one line: the CLI prints it on stderr and exits 2, the
magics show it without a traceback (``_render_traceback_``) while still failing
the cell, so papermill stops at it.
"""

from __future__ import annotations


class ReadinessError(Exception):
    """Base class: a problem the user can act on, described in one message."""

    exit_code = 2

    def _render_traceback_(self) -> list[str]:
        # IPython calls this instead of printing a traceback.
        return [f"ReadinessError: {self}"]


class ConfigError(ReadinessError):
    """``readiness.yaml`` (or a YAML cell body) is not valid YAML or breaks the schema."""


class CriteriaLockedError(ReadinessError):
    """Criteria changed after evidence was recorded, without an amendment reason."""


class EvidenceError(ReadinessError):
    """Evidence cannot be recorded or read (bad value, unreadable run record)."""


class FileError(ReadinessError):
    """A file cannot be read or written: missing, not text, no permission, disk full."""


class ProjectError(ReadinessError):
    """The project folder is missing, or a file the command needs is not there."""


class UsageError(ReadinessError):
    """A command was called with bad arguments."""


# -- the external tools' failures, each translated in one place (readiness.integrations) --


class GitError(ReadinessError):
    """A git command failed: the message is the command and git's own stderr line."""


class GTOError(ReadinessError):
    """GTO refused a registry read or write (bad version, version exists, no such tag)."""


class NotebookError(ReadinessError):
    """papermill or nbformat cannot read a notebook (missing, not JSON, not a notebook)."""


class EvidentlyError(ReadinessError):
    """evidently cannot build or save a drift report from the data it was given."""


class SkopsError(ReadinessError):
    """skops cannot save, inspect or load a model file."""


class MLflowError(ReadinessError):
    """MLflow refused a registry read or write, or its tracking server cannot be reached."""
