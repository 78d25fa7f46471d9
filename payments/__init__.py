"""Fees and payments.

Fees under the AufenthV (Aufenthaltsverordnung, the residence ordinance), payment attempts
through provider plug-ins, signed notifications, refunds, reconciliation and receipts.

Other packages use only what this module exports.
"""
