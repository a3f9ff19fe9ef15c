"""Spreadsheet import/export helpers for the import feature: pure, no Flask, no database.

reading: check an uploaded .xlsx (check_container) and read its first sheet against a column
spec (read_sheet), with per-row errors in Indonesian. writing: the template to fill in and the
error workbook to send back (openpyxl write_only).
"""
from app.spreadsheets.reading import (
    Column,
    ParsedRow,
    ParsedSheet,
    RowError,
    SpreadsheetRefused,
    check_container,
    read_sheet,
)
from app.spreadsheets.writing import write_error_workbook, write_template

__all__ = [
    "Column",
    "ParsedRow",
    "ParsedSheet",
    "RowError",
    "SpreadsheetRefused",
    "check_container",
    "read_sheet",
    "write_error_workbook",
    "write_template",
]
