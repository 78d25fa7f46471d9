"""Permit flows: the ``flows`` catalogue component (``GET /v1/flows``), the declarations it
builds from each flow's ``flow.json``, and the six reference flows, one package each.

A flow itself is a :class:`commons.flows.Flow` registered under the entry-point group
``ozg_commons.flows``; see ``docs/flows.md``.
"""
