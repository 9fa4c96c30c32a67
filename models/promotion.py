"""Should a newly trained model replace the champion? Decided on the same held-out data.

Both models' letter-grouped out-of-fold probabilities on the current dataset are compared:
the new model must have a lower log loss, and its ROC-AUC must not be worse than the
champion's beyond noise (a paired bootstrap over letters: worse by more than 1.96 standard
errors of the AUC difference). When both come from the same recipe their held-out figures
are the same by construction, and the one trained on more letters wins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import log_loss, roc_auc_score

BOOTSTRAP_REPS = 300
Z = 1.96
_EPS = 1e-6


@dataclass
class Comparison:
    """The figures behind a promotion decision and the decision itself."""

    promote: bool
    reason: str
    new_log_loss: float
    champion_log_loss: float | None = None
    new_auc: float | None = None
    champion_auc: float | None = None
    auc_diff_se: float | None = None

    def as_dict(self) -> dict:
        return dict(vars(self))


def _auc(y, p) -> float:
    return float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else float("nan")


def auc_difference_se(y, p_new, p_old, groups, *, reps: int = BOOTSTRAP_REPS, seed: int = 0):
    """Standard error of AUC(new) - AUC(old), resampling whole letters."""
    rng = np.random.default_rng(seed)
    letters = np.unique(groups)
    index_of = {g: np.flatnonzero(groups == g) for g in letters}
    diffs = []
    for _ in range(reps):
        sample = np.concatenate([index_of[g] for g in rng.choice(letters, len(letters))])
        if len(np.unique(y[sample])) == 2:
            diffs.append(_auc(y[sample], p_new[sample]) - _auc(y[sample], p_old[sample]))
    return float(np.std(diffs, ddof=1)) if len(diffs) > 1 else float("nan")


def compare(
    y: np.ndarray,
    p_new: np.ndarray,
    p_champion: np.ndarray | None,
    groups: np.ndarray,
    *,
    same_recipe: bool = False,
    new_letters: int = 0,
) -> Comparison:
    """Decide promotion; ``p_champion`` is ``None`` when there is no champion yet."""
    y = np.asarray(y)
    p_new = np.clip(np.asarray(p_new, dtype=float), _EPS, 1 - _EPS)
    new_ll, new_auc = float(log_loss(y, p_new, labels=[0, 1])), _auc(y, p_new)
    if p_champion is None:
        return Comparison(True, "no champion yet", new_ll, new_auc=new_auc)
    p_old = np.clip(np.asarray(p_champion, dtype=float), _EPS, 1 - _EPS)
    old_ll, old_auc = float(log_loss(y, p_old, labels=[0, 1])), _auc(y, p_old)
    se = auc_difference_se(y, p_new, p_old, np.asarray(groups))
    figures = dict(
        new_log_loss=new_ll,
        champion_log_loss=old_ll,
        new_auc=new_auc,
        champion_auc=old_auc,
        auc_diff_se=se,
    )
    if same_recipe and np.allclose(p_new, p_old):
        if new_letters > 0:
            return Comparison(
                True, f"same recipe, trained on {new_letters} more letters", **figures
            )
        return Comparison(False, "same recipe and same letters as the champion", **figures)
    auc_floor = old_auc - Z * (se if np.isfinite(se) else 0.0)
    if new_ll >= old_ll:
        reason = f"log loss {new_ll:.4f} is not below the champion's {old_ll:.4f}"
        return Comparison(False, reason, **figures)
    if np.isfinite(new_auc) and np.isfinite(old_auc) and new_auc < auc_floor:
        reason = (
            f"log loss improves ({new_ll:.4f} < {old_ll:.4f}) but ROC-AUC {new_auc:.3f} is worse "
            f"than the champion's {old_auc:.3f} beyond noise (floor {auc_floor:.3f})"
        )
        return Comparison(False, reason, **figures)
    reason = (
        f"log loss {new_ll:.4f} < champion's {old_ll:.4f}; ROC-AUC {new_auc:.3f} vs "
        f"{old_auc:.3f} (not worse beyond noise, SE {se:.3f})"
    )
    return Comparison(True, reason, **figures)
