"""The production readiness checklist: items, probes, attestations, scorecards."""
