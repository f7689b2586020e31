"""Acceptance 4 (issue 11): a field the ERP refuses reaches finance's task with the vendor's field and message;
once finance has corrected the mapping in the data dictionary and retried, the voucher posts, once."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from engine.domain.posting import GL_COLUMN
from engine.services.masterdata.importing import demo_folder, import_master_data
from engine.services.task_views import task_view

VENDOR_FIELD = {"kingdee": "FACCOUNTID", "yonyou_u8": "code", "yonbip": "accsubjectCode", "sap": "GLAccount"}
WRONG = {"gl_kingdee": "6602.99", "gl_yonyou": "660299", "gl_sap": "6602990000"}


def dictionary(tmp: Path, version: str, *, hotel_account: str | None) -> Path:
    """The demo dictionary under ``version``, with HOTEL mapped to ``hotel_account`` (None: as shipped)."""
    folder = tmp / version
    shutil.copytree(demo_folder(), folder)
    manifest = folder / "manifest.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace('version = "2026.4"', f'version = "{version}"'),
                        encoding="utf-8")
    if hotel_account is not None:
        path = folder / "expense_subjects.csv"
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        for row in rows:
            if row["code"] == "HOTEL":
                row.update(dict.fromkeys(("gl_kingdee", "gl_yonyou", "gl_sap"), None))
                row.update({column: WRONG[column] for column in WRONG})
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return folder


def test_finance_sees_the_erps_field_error_fixes_the_mapping_and_the_voucher_posts(erp_flow, erp, tmp_path):
    flow, app = erp_flow, erp_flow.app
    import_master_data(dictionary(tmp_path, "2026.90", hotel_account="wrong"), app.masterdata_store)
    instance = flow.claim("530.00", subject="HOTEL")
    flow.decide(instance)
    [(bpmn_id, lane, _candidates)] = flow.inbox(instance)
    assert (bpmn_id, lane) == ("fix_posting", "finance")
    error = flow.task_data(instance, "fix_posting")["erp_error"]
    assert error["code"] == "ERP_POST_FAILED"
    wrong = WRONG[GL_COLUMN[erp.name]]
    [refused] = [e for e in error["errors"] if wrong in e["message"] or e["field"] == VENDOR_FIELD[erp.name]]
    assert refused["field"] and refused["message"] and refused["line"] == 1, error
    view = task_view(app.reader, flow.task(instance, "fix_posting")["task_guid"], "E0012")
    assert refused["field"] in view.instructions and refused["message"] in view.instructions
    assert erp.emulator.book.all() == [], "nothing was booked"

    import_master_data(dictionary(tmp_path, "2026.91", hotel_account=None), app.masterdata_store)  # corrected
    flow.act(instance, {"fix_note": "HOTEL maps to the hotel account again 住宿费科目已更正"}, user="E0012")
    assert flow.finished(instance) == ("complete", "posted")
    [voucher] = erp.emulator.book.all()
    number = flow.instance(instance).business_key
    assert voucher.reference == number and voucher.voucher_no == flow.data(instance)["voucher"]["voucher_no"]
    assert wrong not in {line.account for line in voucher.lines}
