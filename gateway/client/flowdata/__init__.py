"""Interpreters of a flow's declarative data, run on the device (the server never sees form
values). The browser implements the same from docs/flows.md:

- :func:`validate`: the form against the flow's JSON Schema, errors per field in de or en;
- :func:`fee_facts`: exactly the case facts the flow declares for the fee quote;
- :func:`xauslaender`: the form mapped onto the XAusländer-oriented structure;
- :func:`summary_pdf`: the PDF summary of the application.

Each takes the flow as a :class:`commons.flows.FlowDefinition` or as the JSON that
``GET /v1/flows/{id}`` serves.
"""

from gateway.client.flowdata.facts import fee_facts
from gateway.client.flowdata.mapping import xauslaender
from gateway.client.flowdata.summary import summary_pdf
from gateway.client.flowdata.validation import FieldError, validate

__all__ = ["FieldError", "fee_facts", "summary_pdf", "validate", "xauslaender"]
