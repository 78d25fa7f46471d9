"""Extension of a residence permit (§ 8 AufenthG).

The flow is data: flow.json and the files it names sit next to this module.
"""

from commons.flows import Flow


class ExtensionFlow(Flow):
    name = "flow-extension"
    summary = "Extension of a residence permit (§ 8 AufenthG)"
