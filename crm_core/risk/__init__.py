"""Churn and renewal risk: features from the data, a transparent rule score, a scikit-learn model
once enough renewals and churns are labelled, and the stored score with its history.

- ``features``: point-in-time features per customer (silence, proposal open rate over the last three
  proposals, feedback time, complaints and tickets, payment delays, budget and project trends, renewals);
- ``rules``: the rule score 0–100 and the Chinese reasons;
- ``model``: training and scoring of the logistic-regression model (kept as JSON);
- ``history``: current score and history, threshold crossings with hysteresis;
- ``retention``: cases and the tier's service offer to suggest with an alert;
- ``scoring``: the nightly pass over every customer.
"""
