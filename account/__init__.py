"""Applicant accounts.

The applicant's account on top of the identity provider (Keycloak over OIDC, BundID brokered
through it): trust levels, roles, profile, consents, mailbox, GDPR export and erasure.

Other packages use only what this module exports.
"""
