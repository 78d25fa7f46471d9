"""Residence permit for employment as a skilled worker (§§ 18a, 18b AufenthG).

The flow is data: flow.json and the files it names sit next to this module.
"""

from commons.flows import Flow


class EmploymentFlow(Flow):
    name = "flow-employment"
    summary = "Residence permit for employment as a skilled worker (§§ 18a, 18b AufenthG)"
