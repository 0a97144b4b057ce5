"""Above registry and checklist: the full check, promotion, retraining, reports."""

# the renderers of the gate's results register on import (readiness.render is below the gate)
from readiness.gate import views  # noqa: F401
