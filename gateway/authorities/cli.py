"""``ozg-commons authorities``: list the registry, make a routing signing key."""

from __future__ import annotations

import json

import typer

cli = typer.Typer(help="The deployment's authorities.", no_args_is_help=True)


@cli.command("list")
def list_authorities(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List the authorities of the current settings (the embedded default in development)."""
    from commons.settings import Settings
    from gateway.authorities.runtime import build_registry

    registry = build_registry(Settings())
    if as_json:
        typer.echo(json.dumps([a.public_json() for a in registry.all()], indent=2))
        return
    for a in registry.all():
        typer.echo(f"{a.id}\t{a.destination_id}\t{a.name.de}\t{','.join(a.ars + a.ags)}")


@cli.command("routing-keygen")
def routing_keygen() -> None:
    """Print a new routing signing key (RSA-4096 private JWK) for
    OZG_AUTHORITIES_ROUTING_SIGNING_KEY. Keep it secret."""
    from gateway.authorities.routing import generate_routing_key, private_jwk_text

    typer.echo(private_jwk_text(generate_routing_key()))
