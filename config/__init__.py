"""Settings and static defaults (intent exemplars, vocabularies). The bottom layer: imports nothing of ours."""

from config.settings import Settings, SettingsError, get_settings, reset_settings

__all__ = ["Settings", "SettingsError", "get_settings", "reset_settings"]
