"""What a person receives of a customer depends on their site; every read is audited."""

from datetime import date

from fastapi.testclient import TestClient

from allo.domain.roles import Role
from allo.services import sites
from allo.services.principal import system_principal
from allo.store.uow import Store
from tests.integration.conftest import Tenant


def read_as(client: TestClient, token: str, customer_id: int) -> dict[str, object]:
    answer = client.get(
        f"/api/v1/customers/{customer_id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def test_offshore_adviser_without_transfer_basis_gets_masked_card(
    client: TestClient, acme: Tenant
) -> None:
    card = read_as(client, acme.extra_tokens["tana"], acme.ids["customer"])
    assert card["first_name"] == "J***"
    assert card["last_name"] == "D***"
    assert card["phone"] == "+33 6 ** ** ** 12"
    assert card["email"] == "j***@e***.fr"
    assert card["iban"] is None
    assert card["masked"] is True


def test_paris_adviser_gets_clear_identity_but_never_the_full_iban(
    client: TestClient, acme: Tenant
) -> None:
    card = read_as(client, acme.tokens[Role.ADVISER], acme.ids["customer"])
    assert card["last_name"] == "Dupont"
    assert card["phone"] == "+33 6 12 34 56 12"
    assert isinstance(card["iban"], str)
    assert "3000 6000" not in card["iban"]


def test_listing_is_masked_too(client: TestClient, acme: Tenant) -> None:
    answer = client.get(
        "/api/v1/customers", headers={"Authorization": f"Bearer {acme.extra_tokens['tana']}"}
    )
    assert all(item["last_name"].endswith("***") for item in answer.json()["items"])


def test_scc_without_assessment_counts_as_no_basis(
    client: TestClient, store: Store, acme: Tenant
) -> None:
    with store.unit_of_work() as uow:
        sites.update_site(
            uow,
            system_principal(acme.id),
            acme.ids["tana"],
            {"transfer_basis": "scc", "transfer_module": 2, "transfer_assessed_on": None},
        )
    assert read_as(client, acme.extra_tokens["tana"], acme.ids["customer"])["masked"] is True
    with store.unit_of_work() as uow:
        sites.update_site(
            uow,
            system_principal(acme.id),
            acme.ids["tana"],
            {"transfer_assessed_on": date(2026, 2, 1)},
        )
    card = read_as(client, acme.extra_tokens["tana"], acme.ids["customer"])
    assert card["last_name"] == "Dupont"


def test_every_read_is_audited_with_who_what_and_from_where(
    client: TestClient, acme: Tenant
) -> None:
    read_as(client, acme.extra_tokens["tana"], acme.ids["customer"])
    read_as(client, acme.tokens[Role.SUPERVISOR], acme.ids["customer"])
    trail = client.get(
        f"/api/v1/audit?subject_id={acme.ids['customer']}", headers=acme.auth(Role.ADMIN)
    ).json()["entries"]
    reads = [e for e in trail if e["action"] == "customer.read"]
    assert [(e["user_id"], e["site_id"]) for e in reads] == [
        (acme.ids["user_tana"], acme.ids["tana"]),
        (acme.ids["user_supervisor"], acme.ids["paris"]),
    ]
    assert "iban" not in reads[0]["fields"]["fields"]
    assert "iban" in reads[1]["fields"]["fields"]
    assert reads[0]["at"] is not None


def test_planner_never_reads_customers(client: TestClient, acme: Tenant) -> None:
    answer = client.get(
        f"/api/v1/customers/{acme.ids['customer']}", headers=acme.auth(Role.PLANNER)
    )
    assert answer.status_code == 403
