"""What the OA and ERP integrations need from persistence, as Protocols (implemented in engine.persistence):
the data dictionary's OA forms and posting rules, the record of posted vouchers, and the org sync.
The unit of work (ports.py) carries one of each."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Protocol

from connectors.erp import PostedVoucher, VoucherDraft
from engine.domain.oa_forms import OaForm
from engine.domain.org_sync import HeldTask, Known
from engine.domain.posting import PostingRule


class OaForms(Protocol):
    """The data dictionary's OA form mappings (``oa_forms.csv``; engine/domain/oa_forms.py)."""

    def by_template(self, vendor: str, template: str) -> OaForm | None:
        """The mapping of an OA template (mode 1: which process an approval finished in the OA starts)."""

    def outgoing(self, vendor: str, process_id: str) -> OaForm | None:
        """The ``out`` form of that process: the template its ``oa/CreateApproval`` creates (mode 2)."""

    def all(self) -> list[OaForm]: ...


class PostingRules(Protocol):
    """The data dictionary's posting rules (``posting_rules.csv``; engine/domain/posting.py)."""

    def for_erp(self, erp: str) -> PostingRule | None: ...

    def all(self) -> list[PostingRule]: ...


class ErpVoucherRecords(Protocol):
    """budgetflow's record of the vouchers it posted (``erp_voucher``), written with the posting job's success."""

    def record(self, erp: str, key: str, draft: VoucherDraft, posted: PostedVoucher, posting_date: date,
               vat: Mapping[str, Decimal]) -> None:
        """Once per (erp, key): recorded before, the row keeps its place and takes ``posted``'s number.
        ``vat``: the input VAT split off each expense account."""


class OrgSync(Protocol):
    """The org sync's reads and writes (engine/services/oa_org_sync.py)."""

    def known(self, vendor: str) -> list[Known]:
        """Every employee with a ``vendor`` user id, active or not."""

    def units_by_dept(self, vendor: str) -> dict[str, str]:
        """Each ``vendor`` department id an active org unit maps, to that unit's code."""

    def employee_codes(self) -> set[str]: ...

    def create(self, *, code: str, name: str, unit: str, vendor: str, oa_id: str) -> None: ...

    def rename(self, code: str, name: str) -> None: ...

    def move(self, code: str, unit: str) -> None: ...

    def deactivate(self, code: str) -> None: ...

    def held_tasks(self, person: str) -> list[HeldTask]:
        """The open tasks ``person`` holds or is offered."""

    def drop_candidate(self, task_guid: str, person: str) -> None: ...
