"""The OAuth scopes a flow client's token may carry, and which operations each one opens.

Flow clients (the ``flow`` role, client-credentials grant) act for a permit flow, not for a
person, so what they may do is what their client was granted: every route a flow client can
reach names the scope it needs (``require_scope``), and a token without it gets 403
``insufficient_scope`` (RFC 6750 §3.1). People's tokens (applicants, caseworkers, DPOs,
admins) are governed by their roles alone; their scopes are not checked.

This enum is the one list of names. A scope is added here first, then required on its
routes, then granted to the flow clients at the identity provider (Keycloak client scopes;
the development IdP's ``demo-flow`` client gets every scope in :data:`GRANTED`).
"""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    MAILBOX_WRITE = "mailbox:write"  # send a message to an applicant's mailbox
    VAULT_READ = "vault:read"  # documents visible to the caller, an authority's public key
    FEES_READ = "fees:read"  # read a fee quote
    FEES_WRITE = "fees:write"  # calculate a fee and store it as a quote
    PAYMENTS_READ = "payments:read"  # a payment, its refunds, receipt, FIT-Connect block
    PAYMENTS_WRITE = "payments:write"  # start a payment, ask the provider for its status
    SUBMISSIONS_WRITE = "submissions:write"  # FIT-Connect sender: create, upload, submit
    SUBMISSIONS_READ = "submissions:read"  # FIT-Connect: read own submissions, event logs
    # a case a flow client may act in (the applicant allowed it): its state, timeline, draft
    CASES_READ = "cases:read"
    # save the sealed draft, declare the fee facts, link the payment, within such a case
    CASES_WRITE = "cases:write"


RESERVED: frozenset[Scope] = frozenset()
# The scopes some route requires today: what a flow client that may do everything holds.
GRANTED: frozenset[Scope] = frozenset(Scope) - RESERVED
