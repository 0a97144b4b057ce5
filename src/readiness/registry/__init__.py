"""Model files (skops) and versions and stages in the registry (GTO)."""
