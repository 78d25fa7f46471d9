"""Residence permit for vocational training (§ 16a AufenthG).

The flow is data: flow.json and the files it names sit next to this module.
"""

from commons.flows import Flow


class TrainingFlow(Flow):
    name = "flow-training"
    summary = "Residence permit for vocational training (§ 16a AufenthG)"
