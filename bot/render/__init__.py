"""One channel-neutral ``Reply`` rendered in each messenger's dialect, split under its byte limits."""

from bot.render.dialects import Dialect, render, render_parts, title_of
from bot.render.split import split_message

__all__ = ["Dialect", "render", "render_parts", "split_message", "title_of"]
