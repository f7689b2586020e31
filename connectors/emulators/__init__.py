"""Faithful local stand-ins for the OA suites (and, later, the ERPs) the connectors call.

The vendors cannot be reached from where budgetflow is built and tested, so each gets an emulator that
speaks its request and response shapes, error codes, token scheme and callback cryptography, with switches
to inject the faults real tenants produce. They are for tests and the demo, never for production.
"""
