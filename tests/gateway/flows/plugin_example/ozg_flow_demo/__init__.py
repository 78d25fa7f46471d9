"""A permit flow in a distribution of its own: this class, the JSON files next to it
(flow.json, schema.json, summary.json, xauslaender.json) and the entry point in
pyproject.toml. Nothing in the gateway changes (docs/flows.md, section 1)."""

from commons.flows import Flow


class DemoFlow(Flow):
    name = "flow-demo"  # always "flow-" + the id in flow.json
    summary = "Residence permit for training (§ 16a AufenthG), as a plug-in of its own"
