"""The MLflow store: logging, registering, verifying and loading trained models."""
