"""Wire settings, database and services together; the one place that picks concrete classes."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from connectors.erp import ErpClient
from connectors.erp_registry import ErpSettingsInvalid, factory
from connectors.local_erp import LocalErp
from engine import gc_settings
from engine.audit_key import load_audit_key
from engine.config import SettingInvalid, Settings
from engine.domain.oa_forms import OaForm
from engine.domain.posting import LOCAL_RULE, PostingRule
from engine.erp_settings import ErpConnection, load_erp_connection
from engine.oa_settings import load_oa_connections
from engine.persistence import audit_repository, people_lookups, posting_lookups, reconciliation_queries
from engine.persistence.db import make_engine, make_session_factory
from engine.persistence.erp_repository import SqlErpVouchers
from engine.persistence.masterdata_repository import SqlMasterDataStore
from engine.persistence.oa_refs import SqlExternalRefs
from engine.persistence.oa_stores import SqlCallbackInbox, SqlNonceStore, SqlTokenCache
from engine.persistence.rate_counters import SqlRateCounters
from engine.persistence.types import utcnow
from engine.persistence.unit_of_work import SqlUnitOfWork
from engine.persistence.voucher_store import SqlVoucherStore
from engine.services.erp_payments import PaymentSync
from engine.services.erp_posting import PostingSources, VoucherPosting
from engine.services.job_runner import ConnectorJobRunner
from engine.services.oa_approval_jobs import OaApprovalJobs
from engine.services.oa_callback_worker import OaCallbackWorker
from engine.services.oa_notify import OaNotifier
from engine.services.outbox import RetryPolicy
from engine.services.reconciliation import Reconciler


@dataclass
class Container:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    # Where the audit key and anchor are looked up (BUDGETFLOW_AUDIT_*); None: the process environment.
    # ``simulate`` passes {} so a throwaway database gets its own key in its own folder.
    audit_environ: Mapping[str, str] | None = None
    _audit_key: bytes | None = None
    # Threads of one process share the container: the first use of the key loads (or creates) it once.
    _key_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, audit_key=self.audit_key)

    def masterdata_store(self) -> SqlMasterDataStore:
        """One master-data import's transaction (an ORM session of its own)."""
        return SqlMasterDataStore(self.session_factory)

    def reader(self) -> SqlUnitOfWork:
        """A unit of work that only reads (a snapshot; on SQLite it waits for no writer) and cannot commit."""
        return SqlUnitOfWork(self.engine, reads_only=True)

    def rate_counters(self) -> SqlRateCounters:
        """Fixed-window counters every process shares (the web app's sign-in throttling)."""
        return SqlRateCounters(self.engine)

    def oa_nonces(self) -> SqlNonceStore:
        """The OA callbacks' replay guard, shared by every web process."""
        return SqlNonceStore(self.engine)

    def oa_callbacks(self) -> SqlCallbackInbox:
        """Accepted OA callbacks, once per vendor event, waiting for the worker."""
        return SqlCallbackInbox(self.engine)

    def oa_tokens(self) -> SqlTokenCache:
        """The OA vendors' access tokens, shared by every web and worker process."""
        return SqlTokenCache(self.engine)

    def audit_key(self) -> bytes:
        """Loaded on first use: env, key file, or a development key under the instance dir, which is
        created only for a log never written before (a missing key next to audit rows is an error)."""
        with self._key_lock:
            if self._audit_key is None:
                self._audit_key = load_audit_key(self.settings, self.audit_environ, create=True,
                                                 count_rows=lambda: audit_repository.count_rows(self.engine))
            return self._audit_key

    def job_runner(self) -> ConnectorJobRunner:
        """Connectors for outbox jobs: the configured ERP (docs/erp.md), the OA suites."""
        return ConnectorJobRunner(
            posting=self.voucher_posting(),
            notifier=self.oa_notifier(),
            oa_approvals=self.oa_approval_jobs(),
        )

    def erp_connection(self) -> ErpConnection:
        return load_erp_connection(self.settings.instance_dir)

    def erp_client(self) -> ErpClient:
        """The configured ERP's client (the local ERP without settings); SettingInvalid names a wrong setting."""
        connection = self.erp_connection()
        if connection.connector == "local":
            return LocalErp(SqlVoucherStore(self.engine))
        try:
            return factory(connection.connector)(connection.values)
        except ErpSettingsInvalid as exc:
            raise SettingInvalid(f"{connection.source}: [erp] {exc}") from None

    def erp_vouchers(self) -> SqlErpVouchers:
        """The vouchers budgetflow posted, their payments and the reconciliation runs."""
        return SqlErpVouchers(self.engine)

    def voucher_posting(self, erp: ErpClient | None = None) -> VoucherPosting:
        """erp/PostVoucher against ``erp`` (default: the configured one), reading the data dictionary."""
        sources = PostingSources(
            rule=self._posting_rule, subjects=lambda name: posting_lookups.subject_accounts(self.engine, name),
            facts=lambda applicant, currency, document_no: posting_lookups.draft_facts(
                self.engine, applicant, currency, document_no))
        return VoucherPosting(erp if erp is not None else self.erp_client(), sources, today=lambda: utcnow().date())

    def reconciler(self, erp: ErpClient | None = None) -> Reconciler:
        """Reconciliation of ``erp`` (default: the configured one) with what budgetflow posted."""
        vouchers = self.erp_vouchers()
        return Reconciler(erp if erp is not None else self.erp_client(), posted=vouchers.between,
                          consumed=lambda name, docs: reconciliation_queries.consumed_by_document(self.engine, name,
                                                                                                 docs),
                          expense_accounts=self._expense_accounts, save=vouchers.save_reconciliation)

    def _expense_accounts(self, erp: str) -> set[str]:
        return {s.account for s in posting_lookups.subject_accounts(self.engine, erp).values() if s.account}

    def payment_sync(self, runner: ConnectorJobRunner | None = None) -> PaymentSync:
        """Payments read back from the ERP through ``runner``'s ERP and notifier (default: a new runner)."""
        runner = runner if runner is not None else self.job_runner()
        vouchers = self.erp_vouchers()
        return PaymentSync(runner.erp, unpaid=vouchers.unpaid, mark_paid=vouchers.mark_paid,
                           notify=lambda params, key: runner.run("notify/Send", params, key=key),
                           applicant_of=lambda doc: posting_lookups.applicant_of(self.engine, doc),
                           today=lambda: utcnow().date())

    def _posting_rule(self, erp: str) -> PostingRule | None:
        with self.reader() as uow:
            found = uow.posting_rules.for_erp(erp)
        return found if found is not None or erp != "local" else LOCAL_RULE

    def oa_refs(self) -> SqlExternalRefs:
        """Which document each OA approval instance belongs to."""
        return SqlExternalRefs(self.engine)

    def oa_approval_jobs(self) -> OaApprovalJobs | None:
        """oa/CreateApproval and oa/GetApproval through the configured OA suites; None when there is none."""
        connections = load_oa_connections(self.settings.instance_dir)
        if not connections:
            return None
        return OaApprovalJobs(connections=connections, tokens=self.oa_tokens(), refs=self.oa_refs(),
                              forms=self._outgoing_form, public_url=self.settings.public_url,
                              oa_ids=lambda codes, vendor: people_lookups.oa_ids(self.engine, codes, vendor))

    def _outgoing_form(self, vendor: str, process_id: str) -> OaForm | None:
        with self.uow() as uow:
            return uow.oa_forms.outgoing(vendor, process_id)

    def _incoming_form(self, vendor: str, template: str) -> OaForm | None:
        with self.uow() as uow:
            found = uow.oa_forms.by_template(vendor, template)
        return found if found is not None and found.direction == "in" else None

    def oa_callback_worker(self) -> OaCallbackWorker | None:
        """Applies stored OA callbacks (modes 1 and 2); None when no OA suite is configured."""
        connections = load_oa_connections(self.settings.instance_dir)
        if not connections:
            return None
        return OaCallbackWorker(inbox=self.oa_callbacks(), refs=self.oa_refs(), uow=self.uow,
                                connections=connections, tokens=self.oa_tokens(), incoming_form=self._incoming_form,
                                clock=utcnow, subscribe_templates=self._feishu_templates)

    def _feishu_templates(self) -> list[str]:
        with self.uow() as uow:
            return sorted(form.template for form in uow.oa_forms.all() if form.vendor == "feishu")

    def oa_notifier(self) -> OaNotifier | None:
        """notify/Send through the configured OA suites; None when there is none (SettingInvalid if the OA
        settings are wrong: a worker does not start on a half-read configuration)."""
        connections = load_oa_connections(self.settings.instance_dir)
        if not connections:
            return None
        return OaNotifier(connections=connections, tokens=self.oa_tokens(), public_url=self.settings.public_url,
                          recipients=lambda to, doc: people_lookups.recipients(self.engine, to, doc),
                          oa_ids=lambda codes, vendor: people_lookups.oa_ids(self.engine, codes, vendor))

    def retry_policy(self) -> RetryPolicy:
        s = self.settings
        return RetryPolicy(max_attempts=s.outbox_max_attempts, base=timedelta(seconds=s.outbox_backoff_seconds),
                           cap=timedelta(seconds=s.outbox_backoff_cap_seconds),
                           lease=timedelta(seconds=s.outbox_lease_seconds))

    def dispose(self) -> None:
        self.engine.dispose()


def build(settings: Settings | None = None, *, pool_size: int = 10,
          audit_environ: Mapping[str, str] | None = None, create: bool = True) -> Container:
    """``create=False``: a SQLite database file that does not exist yet is an error (DatabaseMissing), not
    a new empty file: the command line creates one only in ``init`` and the commands that seed."""
    settings = settings or Settings.from_env()
    gc_settings.settle_after_start_up()  # once per process: what start-up built is frozen (engine/gc_settings.py)
    engine = make_engine(settings.database_url, pool_size=pool_size,
                         busy_timeout=settings.sqlite_busy_timeout_seconds, create=create)
    return Container(settings=settings, engine=engine, session_factory=make_session_factory(engine),
                     audit_environ=audit_environ)
