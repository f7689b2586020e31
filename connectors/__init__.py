"""Connectors to OA suites and ERPs. Imports nothing from engine/ or web/."""
