"""Roles of staff users and what each may do."""

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    PLANNER = "planner"
    ADVISER = "adviser"


class Permission(StrEnum):
    CONFIGURE = "configure"  # sites, queues, advisers, users
    READ_CONFIG = "read_config"
    READ_CUSTOMERS = "read_customers"
    WRITE_CUSTOMERS = "write_customers"
    READ_CONTACTS = "read_contacts"
    WRITE_CONTACTS = "write_contacts"
    READ_EVENTS = "read_events"
    READ_AUDIT = "read_audit"
    READ_INSIGHTS = "read_insights"  # voice of the customer: counts, topics, ideas
    MANAGE_INSIGHTS = "manage_insights"  # re-run analyses and topics, publish and answer ideas
    PLAN = "plan"  # forecasts, staffing, shift plans, site calendars
    LISTEN_CALLS = "listen_calls"  # listen in live, play recordings back (audited)


P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.SUPERVISOR: frozenset(
        {
            P.READ_CONFIG,
            P.READ_CUSTOMERS,
            P.WRITE_CUSTOMERS,
            P.READ_CONTACTS,
            P.WRITE_CONTACTS,
            P.READ_EVENTS,
            P.READ_INSIGHTS,
            P.MANAGE_INSIGHTS,
            P.PLAN,
            P.LISTEN_CALLS,
        }
    ),
    # Planners work on volumes and staff, never on customer files.
    Role.PLANNER: frozenset(
        {P.READ_CONFIG, P.READ_CONTACTS, P.READ_EVENTS, P.READ_INSIGHTS, P.PLAN}
    ),
    Role.ADVISER: frozenset(
        {P.READ_CONFIG, P.READ_CUSTOMERS, P.WRITE_CUSTOMERS, P.READ_CONTACTS, P.WRITE_CONTACTS}
    ),
}


def can(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]
