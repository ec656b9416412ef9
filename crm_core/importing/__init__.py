"""Bulk import of CRM records from JSON Lines, CSV or Markdown, upserting by ``ref`` (docs/import-formats.md)."""

from crm_core.importing.readers import Row, read_rows, rows_from_dicts
from crm_core.importing.service import KIND_LABELS, KINDS, ImportReport, import_path, import_rows

__all__ = ["KINDS", "KIND_LABELS", "ImportReport", "Row", "import_path", "import_rows", "read_rows", "rows_from_dicts"]
