"""Roles and what each may do. Pure Python: the rules in one table, no Django.

Least privilege: a counsellor sees the queue and their own conversations, and codes them;
a supervisor also reads every conversation, reviews and corrects coded cases, and imports
them; an analyst sees figures and estimates and may export the anonymous coded records
(codes only, never a transcript); an administrator manages accounts and settings, and
reads no transcript unless also given a role that does. A person can hold several roles.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Role(StrEnum):
    COUNSELLOR = "counsellor"
    SUPERVISOR = "supervisor"
    ANALYST = "analyst"
    ADMINISTRATOR = "administrator"


class Action(StrEnum):
    USE_CONSOLE = "use_console"  # the queue, accepting, talking in one's own conversations
    READ_ANY_TRANSCRIPT = "read_any_transcript"  # every live conversation, read-only
    VIEW_FIGURES = "view_figures"  # aggregate figures and estimates, small numbers protected
    VIEW_CONFIDENTIAL_FIGURES = "view_confidential_figures"  # the internal, exact report
    REVIEW_CASES = "review_cases"  # every coded case: review, correct
    EXPORT_CASES = "export_cases"  # the anonymous coded records as CSV or JSON
    IMPORT_CASES = "import_cases"  # bring coded records in from CSV or JSON
    MANAGE_ACCOUNTS = "manage_accounts"  # the admin site: accounts, roles, settings
    MANAGE_CANNED = "manage_canned"  # the console's canned responses
    MANAGE_REFERRALS = "manage_referrals"  # the referral directory
    MANAGE_DANGER_TERMS = "manage_danger_terms"  # words that raise a waiting conversation
    VIEW_TEAM_FIGURES = "view_team_figures"  # demand per hour of the week, chats per counsellor


# Group names as administrators see them in the admin site.
GROUP_FOR_ROLE: dict[Role, str] = {
    Role.COUNSELLOR: "Counsellors",
    Role.SUPERVISOR: "Supervisors",
    Role.ANALYST: "Analysts",
    Role.ADMINISTRATOR: "Administrators",
}
ROLE_FOR_GROUP = {group: role for role, group in GROUP_FOR_ROLE.items()}

RULES: dict[Action, frozenset[Role]] = {
    Action.USE_CONSOLE: frozenset({Role.COUNSELLOR, Role.SUPERVISOR}),
    Action.READ_ANY_TRANSCRIPT: frozenset({Role.SUPERVISOR}),
    Action.VIEW_FIGURES: frozenset({Role.ANALYST}),
    Action.VIEW_CONFIDENTIAL_FIGURES: frozenset({Role.ANALYST}),
    Action.REVIEW_CASES: frozenset({Role.SUPERVISOR}),
    Action.EXPORT_CASES: frozenset({Role.SUPERVISOR, Role.ANALYST}),
    Action.IMPORT_CASES: frozenset({Role.SUPERVISOR}),
    Action.MANAGE_ACCOUNTS: frozenset({Role.ADMINISTRATOR}),
    Action.MANAGE_CANNED: frozenset({Role.SUPERVISOR}),
    Action.MANAGE_REFERRALS: frozenset({Role.SUPERVISOR}),
    Action.MANAGE_DANGER_TERMS: frozenset({Role.SUPERVISOR}),
    Action.VIEW_TEAM_FIGURES: frozenset({Role.SUPERVISOR}),
}


def allows(roles: Iterable[Role], action: Action) -> bool:
    """Whether any of ``roles`` may do ``action``."""
    return not RULES[action].isdisjoint(roles)


def roles_from_groups(group_names: Iterable[str]) -> frozenset[Role]:
    return frozenset(ROLE_FOR_GROUP[name] for name in group_names if name in ROLE_FOR_GROUP)
