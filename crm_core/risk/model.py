"""A churn model learned from the agency's own renewals and churns, once there are enough of them.

Labels: every contract that ended at least ``LABEL_DELAY_DAYS`` ago is *renewed* when the customer
signed another contract around its end, else *churned*. Features are taken ``LEAD_DAYS`` before the
end (when a warning still helps), point in time, month by month. A standardised logistic regression
(scikit-learn) is kept as JSON — scaler, weights, medians for missing values — so that scoring is a
dot product and every score can name the features that pushed it up. A model that does not beat
chance in cross-validation (AUC < ``MIN_AUC``) is stored but not used: the rules stay in charge.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta, tzinfo
from typing import Any

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crm_core.models import Contract, Customer, RiskModel
from crm_core.risk.features import FEATURES, Features, extract
from crm_core.risk.rules import Scored, insufficient, reason_for

KIND = "logistic_regression"
LABEL_DELAY_DAYS = 90
LEAD_DAYS = 45
RENEWAL_SLACK_DAYS = 90
HISTORY_YEARS = 3
MAX_SAMPLES = 3000
RETRAIN_DAYS = 7
MIN_AUC = 0.6
CHURNED_STATUSES = ("流失", "已流失", "终止合作", "已终止")
CLIP: dict[str, tuple[float, float]] = {
    "days_since_contact": (0, 365), "feedback_days": (0, 60), "max_days_late": (0, 180),
    "avg_payment_delay": (0, 120), "budget_trend": (-1, 2), "project_trend": (-1, 2),
    "complaints_90d": (0, 10), "tickets_90d": (0, 30), "sla_breaches": (0, 10), "overdue_payments": (0, 10),
}


@dataclass(frozen=True)
class ChurnModel:
    model_id: int
    medians: list[float]
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float

    @classmethod
    def from_row(cls, row: RiskModel) -> ChurnModel:
        p = row.params
        return cls(row.id, p["medians"], p["mean"], p["scale"], p["coef"], float(p["intercept"]))

    def score(self, f: Features, top: int = 3) -> Scored:
        if not f.sufficient:
            return insufficient(f)
        x = np.array([_value(f, name, med) for name, med in zip(FEATURES, self.medians, strict=True)])
        z = (x - np.array(self.mean)) / np.array(self.scale)
        parts = np.array(self.coef) * z
        logit = self.intercept + float(parts.sum())
        probability = 1 / (1 + math.exp(-max(-30.0, min(30.0, logit))))
        reasons, keys = [], []
        for i in np.argsort(-parts):
            if parts[i] <= 0.05 or len(reasons) >= top:
                break
            text = reason_for(FEATURES[i], f)
            if text:
                reasons.append(text)
                keys.append(FEATURES[i])
        return Scored(round(100 * probability), "model", reasons, keys)


def _value(f: Features, name: str, default: float) -> float:
    v = f.values.get(name)
    return _clip(name, default if v is None else v)


def labelled_samples(session: Session, as_of: date) -> list[tuple[int, date, int]]:
    """(customer id, feature day, churned 0/1) for contracts whose renewal outcome is known."""
    latest_end = as_of - timedelta(days=LABEL_DELAY_DAYS)
    ended = list(session.execute(
        select(Contract.id, Contract.customer_id, Contract.signed_at, Contract.start, Contract.end, Customer.status)
        .join(Customer, Customer.id == Contract.customer_id)
        .where(Contract.end.is_not(None), Contract.end <= latest_end,
               Contract.end >= as_of - timedelta(days=365 * HISTORY_YEARS))
        .order_by(Contract.end.desc(), Contract.id.desc()).limit(MAX_SAMPLES)))  # ties at the limit: the same on every engine
    starts: dict[int, list[tuple[int, date]]] = defaultdict(list)
    customer_ids = sorted({r.customer_id for r in ended})
    for i in range(0, len(customer_ids), 1000):
        for kid, cid, signed, start in session.execute(
                select(Contract.id, Contract.customer_id, Contract.signed_at, Contract.start)
                .where(Contract.customer_id.in_(customer_ids[i:i + 1000]))):
            begun = signed or start
            if begun is not None:
                starts[cid].append((kid, begun))
    samples = []
    slack = timedelta(days=RENEWAL_SLACK_DAYS)
    for row in ended:
        began = row.signed_at or row.start or date.min
        renewed = any(kid != row.id and begun > began and row.end - slack <= begun <= row.end + slack
                      for kid, begun in starts[row.customer_id])
        churned = not renewed
        if row.status in CHURNED_STATUSES and not renewed:
            churned = True
        samples.append((row.customer_id, row.end - timedelta(days=LEAD_DAYS), int(churned)))
    return samples


def _matrix(session: Session, samples: list[tuple[int, date, int]], tz: tzinfo) -> tuple[list[list[float | None]], list[int]]:
    by_month: dict[date, list[tuple[int, int]]] = defaultdict(list)
    for cid, day, label in samples:
        by_month[day.replace(day=1)].append((cid, label))
    xs: list[list[float | None]] = []
    ys: list[int] = []
    for month, rows in sorted(by_month.items()):
        ids = sorted({cid for cid, _ in rows})
        feats: dict[int, Features] = {}
        for i in range(0, len(ids), 1000):
            feats.update(extract(session, [(cid, None) for cid in ids[i:i + 1000]], month, tz))
        for cid, label in rows:
            f = feats[cid]
            if f.sufficient:
                xs.append([f.values[name] for name in FEATURES])
                ys.append(label)
    return xs, ys


def train(session: Session, as_of: date, tz: tzinfo, *, min_labels: int) -> RiskModel | None:
    """Fit and store a model when at least ``min_labels`` renewals and as many churns exist; else None."""
    samples = labelled_samples(session, as_of)
    churned = sum(label for *_, label in samples)
    if churned < min_labels or len(samples) - churned < min_labels:
        return None
    # scikit-learn takes seconds to import: only when there is something to learn
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    raw, ys = _matrix(session, samples, tz)
    y = np.array(ys)
    if y.sum() < min_labels or len(y) - y.sum() < min_labels:
        return None
    medians = []
    for j in range(len(FEATURES)):
        known = [r[j] for r in raw if r[j] is not None]
        medians.append(float(np.median(known)) if known else 0.0)
    x = np.array([[_clip(name, medians[j] if v is None else v) for j, (name, v) in enumerate(zip(FEATURES, r, strict=True))]
                  for r in raw])
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=1000, C=1.0))
    folds = min(5, int(y.sum()), int(len(y) - y.sum()))
    auc = float(np.mean(cross_val_score(pipeline, x, y, scoring="roc_auc",
                                        cv=StratifiedKFold(folds, shuffle=True, random_state=0))))
    pipeline.fit(x, y)
    scaler, lr = pipeline.named_steps["standardscaler"], pipeline.named_steps["logisticregression"]
    scale = [float(s) if s > 0 else 1.0 for s in scaler.scale_]
    params: dict[str, Any] = {"features": list(FEATURES), "medians": medians, "mean": [float(m) for m in scaler.mean_],
                              "scale": scale, "coef": [float(c) for c in lr.coef_[0]],
                              "intercept": float(lr.intercept_[0])}
    session.execute(update(RiskModel).where(RiskModel.active.is_(True)).values(active=False))
    row = RiskModel(as_of=as_of, kind=KIND, params=params, samples=len(y), churned=int(y.sum()), auc=round(auc, 4),
                    active=auc >= MIN_AUC)
    session.add(row)
    session.flush()
    return row


def _clip(name: str, v: float) -> float:
    lo, hi = CLIP.get(name, (-math.inf, math.inf))
    return float(min(hi, max(lo, v)))


def active_model(session: Session) -> ChurnModel | None:
    """The model to score with: the newest one, if it beat chance and knows today's features; None = rules."""
    latest = session.scalars(select(RiskModel).order_by(RiskModel.id.desc()).limit(1)).first()
    if latest is None or not latest.active or latest.params.get("features") != list(FEATURES):
        return None
    return ChurnModel.from_row(latest)


@dataclass
class Retraining:
    trained: RiskModel | None  # the model fitted by this call, if any
    current: RiskModel | None  # the newest model after it (stored, used only if ``active``)

    def describe(self, min_labels: int) -> str:
        if self.trained is not None:
            m = self.trained
            verdict = "启用，流失风险分改用模型评分" if m.active else f"低于 {MIN_AUC}，未启用，继续使用规则评分"
            return f"用 {m.samples} 个已结束的合同（{m.churned} 个未续约）训练了新模型，交叉验证 AUC {m.auc:.2f}，{verdict}"
        if self.current is not None:
            return f"当前模型训练于 {self.current.as_of.isoformat()}，每 {RETRAIN_DAYS} 天重新训练一次"
        return f"已结束的合同中续约和未续约的还不足各 {min_labels} 个，暂不训练，继续使用规则评分"


def retrain_if_due(session: Session, as_of: date, tz: tzinfo, *, min_labels: int) -> Retraining:
    """Fit a new model when there is none or the newest is ``RETRAIN_DAYS`` old (and the data allows)."""
    latest = session.scalars(select(RiskModel).order_by(RiskModel.id.desc()).limit(1)).first()
    if latest is not None and 0 <= (as_of - latest.as_of).days < RETRAIN_DAYS:
        return Retraining(None, latest)
    trained = train(session, as_of, tz, min_labels=min_labels)
    return Retraining(trained, trained or latest)
