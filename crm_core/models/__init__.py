"""Every table of the CRM. Import from here; Alembic's env imports this module for the metadata."""

from crm_core.models.base import Base, utcnow
from crm_core.models.curation import MergeRecord, TalentWork, TierAssessment, TierChange
from crm_core.models.customers import (
    BUDGET_LEVELS,
    INDUSTRIES,
    TIERS,
    BehaviorEvent,
    Campaign,
    Contact,
    Customer,
    CustomerTag,
    Interaction,
    Segment,
    Tag,
    TagCategory,
)
from crm_core.models.dialogue import DialogueState
from crm_core.models.infra import OUTBOX_STATUSES, AuditLog, ChannelCursor, OutboxMessage, ProcessedMessage
from crm_core.models.jobs import PUSH_STATUSES, CustomerRisk, JobRun, PushRecord, RiskModel, RiskScore
from crm_core.models.knowledge import Case, EmbeddingRecord, KBArticle
from crm_core.models.people import ROLE_LABELS, CalendarBlock, Role, Staff, TalentProfile
from crm_core.models.projects import (
    OPEN_TASK_STATUSES,
    PROJECT_STATUSES,
    TASK_STATUSES,
    ChatBinding,
    Project,
    ProjectMember,
    Task,
)
from crm_core.models.sales import (
    LEAD_STATUSES,
    OPEN_STAGES,
    PAYMENT_STATUSES,
    STAGES,
    Contract,
    Lead,
    Opportunity,
    Payment,
    Proposal,
    ProposalAnnotation,
    ProposalVersion,
    ProposalView,
)
from crm_core.models.service import (
    OPEN_TICKET_STATUSES,
    TICKET_PRIORITIES,
    TICKET_STATUSES,
    Ticket,
    TicketNote,
)

__all__ = [
    "BUDGET_LEVELS", "INDUSTRIES", "LEAD_STATUSES", "OPEN_STAGES", "OPEN_TASK_STATUSES",
    "OPEN_TICKET_STATUSES", "OUTBOX_STATUSES", "PAYMENT_STATUSES", "PROJECT_STATUSES", "PUSH_STATUSES", "ROLE_LABELS",
    "STAGES",
    "TASK_STATUSES", "TICKET_PRIORITIES", "TICKET_STATUSES", "TIERS",
    "AuditLog", "Base", "BehaviorEvent", "CalendarBlock", "Campaign", "Case", "ChannelCursor", "ChatBinding",
    "Contact", "Contract", "Customer", "CustomerRisk", "CustomerTag", "DialogueState", "EmbeddingRecord", "Interaction",
    "JobRun", "KBArticle", "Lead", "MergeRecord", "Opportunity", "OutboxMessage", "Payment", "ProcessedMessage", "Project",
    "ProjectMember", "Proposal", "ProposalAnnotation", "ProposalVersion", "ProposalView", "PushRecord",
    "RiskModel", "RiskScore", "Role",
    "Segment", "Staff", "Tag", "TagCategory", "TalentProfile", "TalentWork", "Task", "Ticket", "TicketNote",
    "TierAssessment", "TierChange",
    "utcnow",
]
