"""Outbound delivery: messenger API clients' error classes, the senders per channel, the outbox worker."""
