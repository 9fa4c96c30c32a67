"""The web page of the predictor: ``python predict.py serve`` (see :mod:`web.server`)."""
