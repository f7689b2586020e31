"""The web inbox and REST API (Flask), still to be built. Only this package imports Flask."""
