"""The domain: models, services, permissions, audit. Knows nothing of messengers or HTTP."""
