"""Every BUDGETFLOW_* environment variable: its default and meaning, in one table.

``budgetflow --help`` lists this table, and tests/cli/test_settings_help.py proves it against
``Settings.from_env`` (each variable sets its field; each default is the field's default),
so the help cannot drift from what is read. Texts are English msgids, translated where shown.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, fields

from engine.audit_key import ANCHOR_FILE_ENV, KEY_ENV, KEY_FILE_ENV
from engine.config import MIB, PREFIX, Settings


def N_(message: str) -> str:  # noqa: N802 - marks a message for the catalog (engine/cli/i18n.py)
    return message


@dataclass(frozen=True, slots=True)
class SettingHelp:
    name: str  # the environment variable
    default: str  # as shown; empty: nothing is used unless it is set
    meaning: str
    field: str | None = None  # the Settings field it sets; None for those read elsewhere


def _default(name: str) -> str:
    """A Settings field's default as people read it: 20 MiB, not 20971520."""
    value = next(f.default for f in fields(Settings) if f.name == name and f.default is not MISSING)
    if isinstance(value, int) and value >= MIB and value % MIB == 0:
        return f"{value // MIB} MiB"
    return f"{value:g}" if isinstance(value, float) else str(value)


SETTINGS: tuple[SettingHelp, ...] = (
    SettingHelp(f"{PREFIX}DATABASE_URL", N_("SQLite in the instance folder"),
                N_("the database: sqlite:///PATH or postgresql://USER@HOST:5432/NAME"), "database_url"),
    SettingHelp(f"{PREFIX}INSTANCE_DIR", N_("the per-user data folder (~/.local/share/budgetflow on Linux)"),
                N_("folder of the SQLite database, the development audit key and the audit anchor"), "instance_dir"),
    SettingHelp(f"{PREFIX}BPMN_DIR", N_("the diagrams shipped with budgetflow"),
                N_("folder of diagrams that bpmn check and bpmn deploy read when given none"), "bpmn_dir"),
    SettingHelp(KEY_ENV, "", N_("the audit log's HMAC key itself (32 characters or more)")),
    SettingHelp(KEY_FILE_ENV, N_("a development key, audit.key in the instance folder"),
                N_("a file holding the audit key, e.g. a mounted secret")),
    SettingHelp(ANCHOR_FILE_ENV, N_("audit.anchor beside the key file"),
                N_("where the head of the audit chain is kept, outside the database")),
    SettingHelp(f"{PREFIX}OUTBOX_MAX_ATTEMPTS", _default("outbox_max_attempts"),
                N_("attempts of a connector job before it becomes an incident"), "outbox_max_attempts"),
    SettingHelp(f"{PREFIX}OUTBOX_BACKOFF_SECONDS", _default("outbox_backoff_seconds"),
                N_("wait before the first retry of a failed job, doubling each time"), "outbox_backoff_seconds"),
    SettingHelp(f"{PREFIX}OUTBOX_BACKOFF_CAP_SECONDS", _default("outbox_backoff_cap_seconds"),
                N_("longest wait between retries"), "outbox_backoff_cap_seconds"),
    SettingHelp(f"{PREFIX}OUTBOX_LEASE_SECONDS", _default("outbox_lease_seconds"),
                N_("a job whose worker died is run again after this many seconds"), "outbox_lease_seconds"),
    SettingHelp(f"{PREFIX}RESERVATION_VALID_DAYS", _default("reservation_valid_days"),
                N_("release reservations a finished request left open after N days; 0: never"),
                "reservation_valid_days"),
    SettingHelp(f"{PREFIX}MASTERDATA_MAX_BYTES", _default("masterdata_max_bytes"),
                N_("largest data-dictionary file import-master-data reads"), "masterdata_max_bytes"),
    SettingHelp(f"{PREFIX}MASTERDATA_MAX_TOTAL_BYTES", _default("masterdata_max_total_bytes"),
                N_("largest data-dictionary folder, all files together"), "masterdata_max_total_bytes"),
    SettingHelp(f"{PREFIX}SQLITE_BUSY_TIMEOUT_SECONDS", _default("sqlite_busy_timeout_seconds"),
                N_("how long a SQLite writer waits for the write lock; the worker then waits the outage out"),
                "sqlite_busy_timeout_seconds"),
    SettingHelp(f"{PREFIX}SQLITE_WRITER_HANDOVER", "on",
                N_("off: SQLite writers of several processes no longer take turns through a file lock")),
    SettingHelp(f"{PREFIX}SCRIPT_EVALUATORS", "2",
                N_("processes that evaluate diagram scripts in the sandbox; 0 runs them in-process (tests only)")),
    SettingHelp(f"{PREFIX}PUBLIC_URL", _default("public_url"),
                N_("where people reach the web app; the links in OA messages point there"), "public_url"),
    SettingHelp(f"{PREFIX}OA_CONFIG", N_("oa.toml in the instance folder, if it exists"),
                N_("the OA suites' settings file (DingTalk, WeCom, Feishu); see docs/oa.md")),
    SettingHelp(f"{PREFIX}OA_<VENDOR>_<FIELD>", "",
                N_("one OA setting, e.g. BUDGETFLOW_OA_WECOM_SECRET; wins over the settings file")),
    SettingHelp(f"{PREFIX}OA_SYNC_INTERVAL", _default("oa_sync_interval_seconds"),
                N_("seconds between the worker's syncs of people from the OA suites (docs/oa.md); 0: never"),
                "oa_sync_interval_seconds"),
    SettingHelp(f"{PREFIX}ERP_CONFIG", N_("erp.toml in the instance folder, if it exists; else the local ERP"),
                N_("the ERP settings file (Kingdee, Yonyou, SAP or a plug-in); see docs/erp.md")),
    SettingHelp(f"{PREFIX}ERP_<KEY>", "",
                N_("one ERP setting, e.g. BUDGETFLOW_ERP_APP_SECRET; wins over the settings file")),
    SettingHelp(f"{PREFIX}PAYMENT_SYNC_INTERVAL", _default("payment_sync_interval_seconds"),
                N_("seconds between the worker's reads of payments from the ERP (docs/erp.md); 0: never"),
                "payment_sync_interval_seconds"),
    SettingHelp(f"{PREFIX}RECONCILE_INTERVAL", _default("reconcile_interval_seconds"),
                N_("seconds between the worker's reconciliations with the ERP's book (docs/erp.md); 0: never"),
                "reconcile_interval_seconds"),
    SettingHelp(f"{PREFIX}LANG", N_("from the locale (LANG)"), N_("language of the output: zh or en")),
    SettingHelp(f"{PREFIX}DEBUG", "0", N_("1: show the traceback of an internal error")),
)
