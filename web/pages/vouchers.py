"""The claim's voucher on its document and task pages: the ERP's number and paid date once posted (everyone
who sees the document), and for finance the voucher preview 凭证预览 while it is not posted yet.

The preview is ``VoucherPosting.draft``, the same code the posting job runs, so finance sees exactly the lines
the ERP would get, or the field errors that stop the voucher (engine/services/erp_views.py); nothing is sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from engine.config import SettingInvalid
from engine.domain.identity import Principal
from engine.domain.reconciliation import PostedRecord
from engine.services import erp_views
from engine.services.document_views import DocumentView
from engine.services.erp_views import VoucherPreview
from web.context import container
from web.pages.common import reader

FINANCE = "finance"
# Lanes whose tasks are finance's: the claim's own (overrun approval, fixing the posting), the finance
# director's approval and the countersign (finance and budget admins) of the approval chain.
FINANCE_LANES = frozenset({"finance", "finance_director", "countersign"})


@dataclass(frozen=True)
class VoucherPanel:
    voucher_no: str | None  # the one number the page shows: the ERP's recorded voucher, else the posting job's
    posted: PostedRecord | None  # what budgetflow posted and recorded (paid_on once the ERP says it is paid)
    preview: VoucherPreview | None = None  # finance only, while nothing is posted
    problem: str | None = None  # the ERP settings are wrong: no preview can be built
    finance: bool = False  # finance on a finance page: the lines are shown (the preview, or as posted)


def voucher_panel(document: DocumentView | None, viewer: Principal, *, finance_page: bool) -> VoucherPanel | None:
    """The panel for ``document`` (None when it has no voucher to speak of); ``finance_page``: the page is one
    where finance works on the claim (its document, a finance task), so finance gets the preview."""
    if document is None:
        return None
    posted = container().erp_vouchers().of_document(document.document_no)
    number = posted.voucher_no if posted is not None else document.voucher_no
    finance = finance_page and viewer.has(FINANCE)
    if posted is not None or not finance or document.status == "complete":  # rejected, withdrawn: never posted
        return VoucherPanel(number, posted, finance=finance) if number else None
    params = erp_views.claim_posting_params(reader(), document.document_no, viewer.code)
    if params is None:
        return VoucherPanel(number, None) if number else None
    try:
        posting = container().voucher_posting()
    except SettingInvalid as exc:
        return VoucherPanel(number, None, problem=_("The ERP settings are wrong, so no voucher can be built: "
                                                    "%(what)s", what=str(exc)), finance=True)
    return VoucherPanel(number, None, preview=erp_views.preview(posting.draft, params), finance=True)
