"""Slash commands, one module per domain. Importing this package registers them all."""

from handlers.commands import customers, help, knowledge, reports, sales, service, work  # noqa: F401
