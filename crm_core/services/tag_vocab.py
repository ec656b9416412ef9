"""The tag vocabulary (config/vocab/tags.json): categories, brief keywords, default rules."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings, get_settings
from config.vocab import load
from crm_core.models import Tag, TagCategory

OTHER = "其他"
SOURCE_LABELS = {"manual": "手动", "rule": "规则", "nlp": "Brief", "import": "导入"}


def vocab() -> dict[str, Any]:
    return load("tags")


def category_of(tag: str) -> str | None:
    for name, spec in vocab()["categories"].items():
        if tag in spec["tags"]:
            return str(name)
    return None


def _category(session: Session, name: str) -> TagCategory:
    cat = session.scalars(select(TagCategory).where(TagCategory.name == name)).first()
    if cat is None:
        spec = vocab()["categories"].get(name, {})
        cat = TagCategory(name=name, description=spec.get("description"))
        session.add(cat)
        session.flush()
    return cat


def new_tag(session: Session, name: str) -> Tag:
    """The tag called ``name``, created in its category (from the vocabulary, else 其他) if new."""
    tag = session.scalars(select(Tag).where(Tag.name == name)).first()
    if tag is None:
        tag = Tag(name=name, category_id=_category(session, category_of(name) or OTHER).id)
        session.add(tag)
        session.flush()
    return tag


def ensure_categories(session: Session) -> int:
    """Give every tag without a category the one the vocabulary names (or 其他); returns how many."""
    n = 0
    for tag in session.scalars(select(Tag).where(Tag.category_id.is_(None))):
        tag.category_id = _category(session, category_of(tag.name) or OTHER).id
        n += 1
    return n


def rules(settings: Settings | None = None) -> list[dict[str, Any]]:
    settings = settings or get_settings()
    return list(settings.tag_rules) if settings.tag_rules else list(vocab()["rules"])
