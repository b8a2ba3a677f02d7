"""Who is acting: the authenticated user, their tenant, role and site."""

from __future__ import annotations

from dataclasses import dataclass

from allo.domain.privacy import Viewer
from allo.domain.roles import Permission, Role, can
from allo.domain.sites import TransferBasis
from allo.services.errors import Forbidden


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int | None
    tenant_id: int
    role: Role
    site_id: int | None = None
    site_basis: TransferBasis | None = None
    adviser_id: int | None = None
    via_token: bool = False

    @property
    def viewer(self) -> Viewer:
        return Viewer(self.role, self.site_basis)

    def require(self, permission: Permission) -> None:
        if not can(self.role, permission):
            raise Forbidden(f"role {self.role.value} may not {permission.value}")


def system_principal(tenant_id: int) -> Principal:
    """The platform itself (seeding, router): acts as admin of one tenant, never a person."""
    return Principal(user_id=None, tenant_id=tenant_id, role=Role.ADMIN)
