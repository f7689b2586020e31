"""The process engine: the one package that imports SpiffWorkflow (docs/engine.md)."""

from engine.workflow.library_logs import quiet_library_logs

quiet_library_logs()  # at import, before any workflow runs: see library_logs.py
