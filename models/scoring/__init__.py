"""Scoring: drafts, letters and batches to scored items (see :mod:`models.scoring.score`)."""
