"""``ozg-commons fees quote``: a fee quote from the fee catalogue (``POST /v1/fees/quote``,
docs/payments.md), as a permit flow asks for it: the procedure and the few case facts the
fee depends on (never a name or a birth date: the age), the itemised lines with their §.

The quote is made by a flow client: ``--client-id``/``--client-secret`` (client
credentials at ``<server>/dev-idp`` or ``--keycloak-url``; in development ``demo-flow`` /
``demo-flow-secret``), else a bearer token (``--token``, ``OZG_TOKEN`` or the login).
"""

from __future__ import annotations

import json
import secrets
import sys
from datetime import date
from typing import Annotated, Any

import typer

from commons.i18n import _, print_error

fees = typer.Typer(
    help="Fees: a quote from the fee catalogue (as a permit flow).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _token_source(
    url: str, client_id: str | None, client_secret: str | None, keycloak_url: str | None,
    realm: str, token: str | None,
) -> Any:  # fmt: skip
    if client_id or client_secret:
        if not (client_id and client_secret):
            print_error(_("give both --client-id and --client-secret"))
            raise typer.Exit(2)
        from gateway.client.authority import ClientCredentials

        base = (keycloak_url or f"{url}/dev-idp").rstrip("/")
        return ClientCredentials(
            f"{base}/realms/{realm}/protocol/openid-connect/token", client_id, client_secret
        )
    return token


@fees.command("quote")
def quote(
    authority: Annotated[str, typer.Option(help="The authority (tf, ee, p, ...).")],
    procedure: Annotated[
        str, typer.Option(help="The procedure of the fee catalogue (e.g. extension).")
    ],
    age: Annotated[int, typer.Option(min=0, max=150, help="The applicant's age in years.")],
    decision_date: Annotated[
        str | None, typer.Option(help="YYYY-MM-DD the fee law applies on (default today).")
    ] = None,
    duration_months: Annotated[int | None, typer.Option(min=1, max=1200)] = None,
    permit_type: Annotated[
        str | None, typer.Option(help="residence_permit, blue_card or ict_card.")
    ] = None,
    settlement_category: Annotated[
        str | None, typer.Option(help="highly_qualified, self_employed or other.")
    ] = None,
    nationality: Annotated[str | None, typer.Option(help="ISO 3166 alpha-3 (TUR).")] = None,
    association_rights: Annotated[bool, typer.Option("--association-rights")] = False,
    benefits: Annotated[str, typer.Option(help="none, sgb2, sgb12 or asylblg.")] = "none",
    refugee: Annotated[bool, typer.Option("--refugee", help="Recognised refugee.")] = False,
    express: Annotated[bool, typer.Option("--express", help="The express procedure.")] = False,
    rejection: Annotated[bool, typer.Option("--rejection", help="The fee of a refusal.")] = False,
    case_reference: Annotated[
        str | None, typer.Option(help="The flow's case reference (default: a new one).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    server: Annotated[str | None, typer.Option("--server", help="Server URL.")] = None,
    client_id: Annotated[str | None, typer.Option(envvar="OZG_FLOW_CLIENT_ID")] = None,
    client_secret: Annotated[
        str | None, typer.Option(envvar="OZG_FLOW_CLIENT_SECRET", show_default=False)
    ] = None,
    keycloak_url: Annotated[str | None, typer.Option(envvar="OZG_KEYCLOAK_SERVER_URL")] = None,
    realm: Annotated[str, typer.Option(envvar="OZG_KEYCLOAK_REALM")] = "ozg-dev",
    token: Annotated[str | None, typer.Option(envvar="OZG_TOKEN", show_default=False)] = None,
) -> None:
    """Calculate the fee of a procedure for the given facts; prints the itemised quote."""
    from gateway.client.authority import AuthorityClientError, ServerError
    from gateway.client.cli_http import connect, reporting
    from payments import format_cents
    from vault.client import cli as vault_cli

    if decision_date is not None:
        try:
            date.fromisoformat(decision_date)
        except ValueError:
            print_error(_("--decision-date must be YYYY-MM-DD"))
            raise typer.Exit(2) from None
    facts: dict[str, Any] = {
        "applicant_age": age,
        "decision_date": decision_date,
        "duration_months": duration_months,
        "permit_type": permit_type,
        "settlement_category": settlement_category,
        "nationality": nationality,
        "association_rights": association_rights,
        "benefits": benefits,
        "recognised_refugee": refugee,
        "express": express,
        "outcome": "rejection" if rejection else "grant",
    }
    body = {
        "authority": authority,
        "case_reference": case_reference or f"cli-{secrets.token_hex(8)}",
        "fee_rule": {"procedure": procedure},
        "facts": {k: v for k, v in facts.items() if v is not None},
    }
    url = vault_cli.server_url(server)
    api = connect(server, _token_source(url, client_id, client_secret, keycloak_url, realm, token))
    try:
        with reporting():
            answer = api.call("POST", "/v1/fees/quote", json=body)
    except (AuthorityClientError, ServerError) as exc:  # the client-credentials token
        print_error(str(exc))
        raise typer.Exit(1) from None
    if as_json:
        sys.stdout.write(json.dumps(answer, indent=2, ensure_ascii=False) + "\n")
        return
    for line in answer["lines"]:
        mark = " *" if line["unconfirmed"] else ""
        sys.stdout.write(
            f"{format_cents(line['amount_cents']):>10} {answer['currency']}  {line['label']}"
            f" ({line['legal_reference']}){mark}\n"
        )
    total = _(
        "{amount} {currency} to pay (quote {id}, catalogue {version})",
        amount=format_cents(answer["amount_due_cents"]),
        currency=answer["currency"],
        id=answer["id"],
        version=answer["catalogue_version"],
    )
    sys.stdout.write(total + "\n")
    if answer.get("unconfirmed"):
        note = _("* a figure of this line is not confirmed yet (docs/payments.md)")
        sys.stdout.write(note + "\n")
