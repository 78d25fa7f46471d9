"""The built-in FIT-Connect delivery service (Submission API v1) and the sender adapter.

This package file imports nothing, so that the device-side sender adapter
(:mod:`gateway.delivery.sender`, httpx only) loads without the server's web framework or
database. Server code calls :mod:`gateway.delivery.service`; see ``docs/delivery.md``.
"""
