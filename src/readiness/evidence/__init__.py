"""Evidence recorded from notebooks and jobs, metrics, and the criteria verdict."""
