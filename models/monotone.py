"""A logistic regression whose coefficients keep the sign the guideline gives them.

``MonotoneLogisticRegression(signs=...)`` fits an L2-penalised logistic regression with
box constraints on its coefficients: a feature with sign +1 can only raise P(Overturned),
one with -1 can only lower it, 0 is free. On a few hundred items with a few dozen
overturns an unconstrained fit can give "documented functional improvement" a negative
weight by chance, and a what-if would then move the wrong way; the constraint makes that
impossible, and costs nothing when the data agree with the guideline.

The fit is a projected Newton method on the penalised log loss (exact gradient and
Hessian; a few dozen coefficients at most); the intercept is not penalised.
``penalty_factors`` scale the penalty per feature, so facts the letters barely show can
enter with a strong prior toward zero.

Calibration is one Platt step that cannot invert: with ``calibration_folds`` > 1 the
fit also scores every item out of fold (folds grouped by ``groups``, the letter), fits
``a * score + c`` to those scores with ``a >= 0``, and keeps the final model's
coefficients scaled by ``a``. The calibrated log-odds stay linear in the inputs, so the
contributions ``coef_[j] * x[j]`` add up exactly to :meth:`decision_function`.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, log_expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import GroupKFold
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits


class MonotoneLogisticRegression(ClassifierMixin, BaseEstimator):
    """Binary L2 logistic regression with sign-constrained coefficients.

    Parameters
    ----------
    C : float
        Inverse L2 strength, as in :class:`sklearn.linear_model.LogisticRegression`
        (penalty ``||w||^2 / (2C)`` against the summed log loss).
    signs : sequence of {-1, 0, +1} or None
        One per feature: +1 coefficient >= 0, -1 coefficient <= 0, 0 free. None: all free.
    penalty_factors : sequence of float or None
        Per-feature multiplier of the L2 penalty (None: all 1).
    calibration_folds : int
        Folds of the out-of-fold models (their spread is each item's band, and their
        scores feed the Platt step); 0 or 1 for none.
    platt : bool
        Fit the Platt step on the out-of-fold scores (else ``a = 1, c = 0``).
    max_iter : int
        Newton iterations.

    Attributes
    ----------
    coef_, intercept_ : the calibrated log-odds ``X @ coef_[0] + intercept_[0]``.
    calibration_ : ``(a, c)`` of the Platt step (``(1, 0)`` without one).
    """

    def __init__(
        self,
        C: float = 1.0,
        signs=None,
        penalty_factors=None,
        calibration_folds: int = 5,
        platt: bool = True,
        max_iter: int = 100,
    ):
        self.C = C
        self.signs = signs
        self.penalty_factors = penalty_factors
        self.calibration_folds = calibration_folds
        self.platt = platt
        self.max_iter = max_iter

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    def _bounds(self, n_features: int):
        if self.signs is None:
            signs = np.zeros(n_features)
        else:
            signs = np.asarray(self.signs, dtype=float)
            if signs.shape != (n_features,):
                raise ValueError(
                    f"signs has {signs.size} entries for {n_features} features; give one "
                    "sign per feature"
                )
        bounds = [(0.0, None) if s > 0 else (None, 0.0) if s < 0 else (None, None) for s in signs]
        return [*bounds, (None, None)]  # the intercept is free

    def fit(self, X, y, groups=None):
        """Fit the constrained, penalised model, then its out-of-fold Platt step."""
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(
                "This solver needs samples of at least 2 classes in the data, but the data "
                f"contains only one class: {self.classes_[0]!r}"
            )
        if type_of_target(y, input_name="y") != "binary":
            raise ValueError(
                "Only binary classification is supported. The type of the target is "
                f"{type_of_target(y, input_name='y')}."
            )
        if self.C <= 0:
            raise ValueError(f"C must be positive, got {self.C}")
        t = (y == self.classes_[1]).astype(np.float64)
        bounds = self._bounds(X.shape[1])
        factors = self._factors(X.shape[1])
        coef, b, self.n_iter_ = _solve(X, t, bounds, factors / self.C, self.max_iter)
        a, c = 1.0, 0.0
        scores, folds = self._out_of_fold(X, t, groups, bounds, factors)
        if scores is not None and self.platt:
            # Platt on out-of-fold scores, slope >= 0: it can flatten, never invert.
            (a,), c, _ = _solve(scores[:, None], t, [(0.0, None), (None, None)], np.zeros(1), 200)
        self.calibration_ = (float(a), float(c))
        self.coef_ = (a * coef).reshape(1, -1)
        self.intercept_ = np.array([a * b + c])
        # The fold models, calibrated alike: their spread on an item is its band.
        self.fold_coef_ = np.array([a * f for f, _ in folds]).reshape(len(folds), X.shape[1])
        self.fold_intercept_ = np.array([a * fb + c for _, fb in folds])
        return self

    def fold_decision_function(self, X):
        """Calibrated log-odds of each calibration fold's model: shape (folds, items)."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self.fold_coef_ @ X.T + self.fold_intercept_[:, None]

    def _factors(self, n_features: int) -> np.ndarray:
        if self.penalty_factors is None:
            return np.ones(n_features)
        factors = np.asarray(self.penalty_factors, dtype=float)
        if factors.shape != (n_features,) or (factors < 0).any():
            raise ValueError("penalty_factors needs one non-negative number per feature")
        return factors

    def _out_of_fold(self, X, t, groups, bounds, factors):
        """Out-of-fold raw log-odds and the fold models; None when too few items to calibrate."""
        k = int(self.calibration_folds or 0)
        groups = np.arange(len(t)) if groups is None else np.asarray(groups)
        if k < 2 or len(np.unique(groups[t == 1])) < k or len(np.unique(groups[t == 0])) < k:
            return None, []
        scores, folds = np.zeros(len(t)), []
        for train, test in GroupKFold(n_splits=k).split(X, t, groups):
            if len(np.unique(t[train])) < 2:
                return None, []
            coef, b, _ = _solve(X[train], t[train], bounds, factors / self.C, self.max_iter)
            scores[test] = X[test] @ coef + b
            folds.append((coef, b))
        return scores, folds

    def decision_function(self, X):
        """Log-odds of the second class."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X @ self.coef_[0] + self.intercept_[0]

    def predict_proba(self, X):
        """``[[P(class 0), P(class 1)], ...]``."""
        p = expit(self.decision_function(X))
        return np.column_stack([1 - p, p])

    def predict(self, X):
        """The more probable class."""
        check_is_fitted(self)
        return self.classes_[(self.decision_function(X) > 0).astype(int)]


def _solve(X, t, bounds, penalty, max_iter):
    """Coefficients, intercept and iterations minimising log loss + sum(penalty * coef**2) / 2
    within ``bounds`` (one per coefficient, then the intercept's).

    A projected Newton method with an active set (Bertsekas 1982): the models here have a
    few dozen coefficients at most, so the exact Hessian is cheap, and a handful of
    iterations converge where L-BFGS-B took hundreds on the strongly penalised inputs.
    """
    with threadpool_limits(1):
        return _newton(X, t, bounds, penalty, max_iter)


def _newton(X, t, bounds, penalty, max_iter):
    """:func:`_solve`'s iterations. One BLAS thread: these products are a few columns wide,
    and a second thread only waits for the first (30x slower on a busy 2-core machine)."""
    n, d = X.shape
    A = np.hstack([X, np.ones((n, 1))])
    pen = np.append(np.asarray(penalty, dtype=float), 0.0)
    lower = np.array([-np.inf if lo is None else lo for lo, _ in bounds])
    upper = np.array([np.inf if hi is None else hi for _, hi in bounds])

    def loss(theta):
        z = A @ theta
        return -(t * log_expit(z) + (1 - t) * log_expit(-z)).sum() + 0.5 * (pen * theta) @ theta

    rate = np.clip(t.mean(), 1e-6, 1 - 1e-6)
    theta = np.clip(np.append(np.zeros(d), np.log(rate / (1 - rate))), lower, upper)
    value, iterations = loss(theta), 0
    for iterations in range(1, max_iter + 1):  # noqa: B007 - the count is returned
        p = expit(A @ theta)
        grad = A.T @ (p - t) + pen * theta
        hess = (A * (p * (1 - p))[:, None]).T @ A + np.diag(pen + 1e-10)
        # coefficients held at a bound that the gradient pushes against stay there
        eps = 1e-12
        active = ((theta <= lower + eps) & (grad > 0)) | ((theta >= upper - eps) & (grad < 0))
        free = ~active
        if not free.any() or np.max(np.abs(grad[free])) < 1e-9:
            break
        direction = np.zeros_like(theta)
        direction[free] = np.linalg.solve(hess[np.ix_(free, free)], grad[free])
        step = 1.0
        while step > 1e-10:
            candidate = np.clip(theta - step * direction, lower, upper)
            new_value = loss(candidate)
            if new_value <= value - 1e-4 * grad @ (theta - candidate):
                break
            step /= 2
        else:
            break
        converged = np.max(np.abs(candidate - theta)) < 1e-10
        theta, value = candidate, new_value
        if converged:
            break
    return theta[:-1], float(theta[-1]), np.array([iterations])
