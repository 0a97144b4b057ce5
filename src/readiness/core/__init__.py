"""The ground floor: project root, readiness.yaml and its schema, YAML, files, audit, errors."""
