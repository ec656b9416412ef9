"""Who is asking: a staff member with a role, an external client contact, the system, or a guest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from crm_core.models import ROLE_LABELS, Role

ActorKind = Literal["staff", "external", "guest", "system"]


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    name: str
    channel: str = "system"
    sender_id: str | None = None
    staff_id: int | None = None
    staff_ref: str | None = None
    role: Role | None = None
    department: str | None = None
    company_wide: bool = False  # a manager of an executive department sees the whole company
    customer_id: int | None = None  # external contacts: their own customer
    contact_id: int | None = None

    @classmethod
    def system(cls, channel: str = "system", name: str = "系统") -> Actor:
        return cls(kind="system", name=name, channel=channel)

    @classmethod
    def guest(cls, sender_id: str | None, channel: str) -> Actor:
        return cls(kind="guest", name="访客", channel=channel, sender_id=sender_id)

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"

    @property
    def is_external(self) -> bool:
        return self.kind == "external"

    @property
    def label(self) -> str:
        if self.kind == "staff" and self.role:
            return f"{self.name}（{ROLE_LABELS.get(self.role, self.role)}）"
        return self.name

    def describe(self) -> str:
        """Stable text for the audit log."""
        if self.kind == "staff":
            return f"staff:{self.staff_ref or self.staff_id}:{self.name}"
        if self.kind == "external":
            return f"external:{self.contact_id}:{self.name}"
        return f"{self.kind}:{self.sender_id or self.name}"
