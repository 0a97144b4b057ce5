"""Data: DVC tracking, schemas and validation, pipelines, lineage, project set-up."""
