"""Slash commands, one module per domain. Importing this package registers them all."""

from handlers.commands import (  # noqa: F401
    curation,
    customers,
    help,
    knowledge,
    reports,
    sales,
    service,
    talent,
    work,
)
