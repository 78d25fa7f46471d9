"""Change of a condition of your residence permit (§ 12 Abs. 2 AufenthG).

The flow is data: flow.json and the files it names sit next to this module.
"""

from commons.flows import Flow


class ChangeOfConditionsFlow(Flow):
    name = "flow-change-of-conditions"
    summary = "Change of a condition of your residence permit (§ 12 Abs. 2 AufenthG)"
