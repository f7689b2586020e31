"""The web inbox and REST API (Flask). Only this package imports Flask; built in [3/5]."""
