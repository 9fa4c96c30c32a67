"""Denial reasons: the ranking of likely reasons (:mod:`.ranking`) and its evaluation
(:mod:`.evaluation`). Rationale-derived codes enter only as training targets."""
