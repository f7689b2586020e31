"""The data dictionary (主数据): a versioned folder of CSV files plus ``manifest.toml``, read without I/O.

Every file is required except ``oa_forms.csv``, the OA form mappings (checked in ``oa_form_checks.py``),
``posting_rules.csv``, how claims are posted to each ERP (checked in ``posting_rule_checks.py``), and
``lanes.csv``, the approval lanes and their rules (checked in ``lane_checks.py``).

``source.py`` streams each opened file (bounded lines, strict UTF-8, the folder's checksum on the
way); ``fields.py`` holds the vocabulary and column layouts; ``reading.py`` parses one file at a
time; ``checks.py`` checks across files; ``records.py`` holds the typed records; ``dictionary.py``
puts it together (``parse_dictionary``).

Every problem is reported, as ``FILE:ROW:FIELD: what is wrong``. ROW is the CSV line number (the
header is line 1); ``-`` stands for "the whole file" (ROW) or "the whole row" (FIELD). Each version
is a complete snapshot, so every reference must resolve inside the folder itself. The format is
documented in docs/master-data.md.
"""
