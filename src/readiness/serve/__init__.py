"""Serving: the registry's production model behind an authenticated HTTP API.

One concern per module: ``keys`` (API keys, hashed), ``features`` (the request schema
from the dataset schema and the model's features), ``loaded`` (the served version and
its swap when the registry moves), ``predlog`` (the prediction log, SQLAlchemy),
``metrics`` (Prometheus), ``app`` (the thin ASGI front end), ``runner`` (uvicorn),
``contract`` (the CD4ML contract test) and ``export`` (Docker and Kubernetes files).
"""
