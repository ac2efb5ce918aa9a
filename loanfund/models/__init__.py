"""SQLAlchemy models: tables and their constraints. Changes go through ``services``."""

from loanfund.models.application import (
    ApplicationCashFlow,
    ApplicationDecision,
    ApplicationDocument,
    ApplicationMessage,
    Appraisal,
    AppraisalFinding,
    Collateral,
    Guarantor,
    LoanApplication,
    Notification,
    RelatedBorrowers,
)
from loanfund.models.audit import AuditEvent
from loanfund.models.base import Base, db
from loanfund.models.close import (
    BusinessDay,
    DebtGroupChange,
    InflowForecast,
    JobRun,
    LoanReplay,
    PortfolioSnapshot,
    ReminderKey,
    SchedulerLease,
)
from loanfund.models.cooperative import Cooperative
from loanfund.models.export_job import ExportJob
from loanfund.models.inspection import FollowUp, Inspection, InspectionPhoto, Recall
from loanfund.models.ledger import AccountTotal, CapitalMovement, JournalEntry, JournalLine
from loanfund.models.loan import Loan, Repayment, Restructuring, ScheduleVersion, Tranche
from loanfund.models.outbox import OutboxMessage, OutboxStatus
from loanfund.models.product import LoanProduct
from loanfund.models.setting import Setting
from loanfund.models.user import Role, User, roles_users

__all__ = [
    "AccountTotal",
    "ApplicationCashFlow",
    "ApplicationDecision",
    "ApplicationDocument",
    "ApplicationMessage",
    "Appraisal",
    "AppraisalFinding",
    "AuditEvent",
    "Base",
    "BusinessDay",
    "CapitalMovement",
    "Collateral",
    "Cooperative",
    "DebtGroupChange",
    "ExportJob",
    "FollowUp",
    "Guarantor",
    "InflowForecast",
    "Inspection",
    "InspectionPhoto",
    "JobRun",
    "JournalEntry",
    "JournalLine",
    "Loan",
    "LoanApplication",
    "LoanProduct",
    "LoanReplay",
    "Notification",
    "OutboxMessage",
    "OutboxStatus",
    "PortfolioSnapshot",
    "Recall",
    "RelatedBorrowers",
    "ReminderKey",
    "Repayment",
    "Restructuring",
    "Role",
    "ScheduleVersion",
    "SchedulerLease",
    "Setting",
    "Tranche",
    "User",
    "db",
    "roles_users",
]
