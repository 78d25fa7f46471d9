"""Settlement permit (§§ 9, 18c AufenthG).

The flow is data: flow.json and the files it names sit next to this module.
"""

from commons.flows import Flow


class SettlementFlow(Flow):
    name = "flow-settlement"
    summary = "Settlement permit (§§ 9, 18c AufenthG)"
