"""Detectors that detect-secrets 1.5 lacks, as its regex plugins.

detect-secrets loads custom plugins from a file path (``file://...``), so this module
imports nothing from readiness: it is executed on its own by detect-secrets.
"""

from __future__ import annotations

import re

from detect_secrets.plugins.base import RegexBasedDetector


class GoogleApiKeyDetector(RegexBasedDetector):
    """Google Cloud / Gemini / Maps API keys: ``AIza`` and 35 characters."""

    secret_type = "Google API Key"
    denylist = (re.compile(r"(?<![A-Za-z0-9_-])(AIza[0-9A-Za-z_-]{35})(?![A-Za-z0-9_-])"),)


class HuggingFaceTokenDetector(RegexBasedDetector):
    """Hugging Face user access tokens: ``hf_`` and 34 letters."""

    secret_type = "Hugging Face Token"
    denylist = (re.compile(r"(?<![A-Za-z0-9_])(hf_[A-Za-z0-9]{34,})(?![A-Za-z0-9_])"),)


class StripeTestKeyDetector(RegexBasedDetector):
    """Stripe secret and restricted keys in test mode (detect-secrets knows live ones)."""

    secret_type = "Stripe Test Key"
    denylist = (re.compile(r"(?<![A-Za-z0-9_])((?:sk|rk)_test_[0-9A-Za-z]{24,})"),)


class GitHubFineGrainedTokenDetector(RegexBasedDetector):
    """Fine-grained GitHub personal access tokens: ``github_pat_``."""

    secret_type = "GitHub Fine-grained Token"
    denylist = (re.compile(r"(github_pat_[0-9A-Za-z]{22}_[0-9A-Za-z]{59})"),)


class OpenAIProjectKeyDetector(RegexBasedDetector):
    """OpenAI project, service-account and admin keys (``sk-proj-``, ``sk-svcacct-``...)."""

    secret_type = "OpenAI Key"
    denylist = (re.compile(r"(?<![A-Za-z0-9_-])(sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,})"),)
