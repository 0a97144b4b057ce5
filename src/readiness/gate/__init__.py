"""Above registry and checklist: the full check, promotion, retraining, reports."""
