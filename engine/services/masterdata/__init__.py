"""Master data use cases: open a data-dictionary folder without trusting it (``folder.py``) and import it
(``importing.py``): validated whole by engine.domain.masterdata, then applied in one transaction."""
