"""The boundary tests drive the real diagrams of bpmn/ (the flow fixtures) as a hostile caller would."""

from tests.flows.conftest import flow, flows_app  # noqa: F401 - fixtures shared with the flow tests
