"""Master data: import a data-dictionary folder (docs/master-data.md), all or nothing, as the CLI does."""

from __future__ import annotations

import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import marshmallow as ma

from engine.services.masterdata.folder import ReadLimits
from engine.services.masterdata.importing import import_master_data
from web.api import bodies, uploads
from web.api.auth import roles
from web.api.blueprint import api_blueprint
from web.context import container

blp = api_blueprint("MasterData", __name__, url_prefix="/api/v1/master-data",
                description="Data-dictionary imports")

DICTIONARY_SUFFIXES = (".csv", ".toml")  # manifest.toml and the CSV files; the import names any it does not expect


def dictionary_file(name: str) -> bool:
    return uploads.plain_name(name, folders=False) and name.endswith(DICTIONARY_SUFFIXES)


class ImportBody(ma.Schema):
    files = uploads.FilesField(dictionary_file, "file name -> text: manifest.toml and the CSV files")


class NoArgs(ma.Schema):
    pass


class ImportCountsSchema(ma.Schema):
    created = ma.fields.Integer(required=True)
    updated = ma.fields.Integer(required=True)
    unchanged = ma.fields.Integer(required=True)


class ImportedSchema(ma.Schema):
    imported = ma.fields.Boolean(required=True)
    changed = ma.fields.Boolean(required=True, metadata={"description": "false: already up to date"})
    version = ma.fields.String(required=True)
    company = ma.fields.String(required=True)
    counts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(ImportCountsSchema), required=True)
    allocations = ma.fields.Integer(required=True)
    adjustments = ma.fields.Integer(required=True)
    oa_forms_removed = ma.fields.Integer(required=True, metadata={
        "description": "OA form mappings deleted because oa_forms.csv no longer has their template"})
    posting_rules_removed = ma.fields.Integer(required=True, metadata={
        "description": "posting rules deleted because posting_rules.csv no longer has their ERP"})


UPLOAD_DOC = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": ImportBody},
    "application/zip": {"schema": {"type": "string", "format": "binary"}},
}}}


@blp.route("/imports", methods=["POST"])
@roles("admin")
@blp.doc(**UPLOAD_DOC)
@blp.response(201, ImportedSchema)
def import_dictionary() -> dict[str, Any]:
    """Import a data-dictionary folder sent as a zip or as JSON files: all of it in one transaction, or nothing.

    Every problem is listed (422, details.problems as file:row:column: message lines) and then nothing is
    imported. Importing the same folder again changes nothing (changed: false).
    """
    files, _fields = uploads.files_of_request(ImportBody(), NoArgs(), dictionary_file)
    settings = container().settings
    limits = ReadLimits(settings.masterdata_max_bytes, settings.masterdata_max_total_bytes)
    with tempfile.TemporaryDirectory(prefix="budgetflow-api-import-") as folder:
        for name, text in files.items():
            (Path(folder) / name).write_text(text, encoding="utf-8")
        summary = import_master_data(Path(folder), container().masterdata_store, limits=limits)
    return {"imported": True, "changed": summary.changed, "version": summary.version, "company": summary.company,
            "counts": {name: asdict(c) for name, c in summary.counts.items()},
            "allocations": summary.allocations, "adjustments": summary.adjustments,
            "oa_forms_removed": summary.oa_forms_removed, "posting_rules_removed": summary.posting_rules_removed}


bodies.accepts_upload("MasterData.import_dictionary", *uploads.ZIP_TYPES)
