"""Residence permit for family reunification (§§ 27-36 AufenthG).

The flow is data: flow.json and the files it names sit next to this module.
"""

from commons.flows import Flow


class FamilyFlow(Flow):
    name = "flow-family"
    summary = "Residence permit for family reunification (§§ 27-36 AufenthG)"
