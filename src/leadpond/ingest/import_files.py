"""Reading tabular files as Excel users save them: CSV in UTF-8 (with or without BOM) or
GB18030/GBK with any common delimiter, and XLSX workbooks streamed row by row.
"""

import codecs
import csv
import io
import zipfile
from collections.abc import Generator
from datetime import UTC, date, datetime, time
from pathlib import PurePath
from typing import IO, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import openpyxl

from leadpond.kit.errors import InvalidInput

CSV_EXTENSIONS = (".csv", ".tsv", ".txt")
XLSX_EXTENSIONS = (".xlsx", ".xlsm")

_TIME_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日",
)


def cell_text(value: object) -> str | None:
    """A cell as trimmed text (Excel numbers without a trailing .0); None when it is empty."""
    if value is None:
        return None
    if isinstance(value, bool):
        text = "TRUE" if value else "FALSE"
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, datetime):
        text = value.isoformat(sep=" ")
    elif isinstance(value, date | time):
        text = value.isoformat()
    else:
        text = str(value)
    # PostgreSQL JSON cannot hold NUL characters; they are never meaningful in a cell.
    text = text.replace("\x00", "").strip()
    return text or None


def parse_cell_time(value: object, zone: ZoneInfo) -> datetime | None:
    """A timestamp cell as naive UTC; times without an offset are read in ``zone``."""
    moment: datetime | None = None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        try:
            moment = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "Zz" else text)
        except ValueError:
            for pattern in _TIME_FORMATS:
                try:
                    moment = datetime.strptime(text, pattern)
                    break
                except ValueError:
                    continue
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    try:
        return moment.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:  # year 1 or 9999 pushed out of range by the offset
        return None


def time_zone(name: str) -> ZoneInfo:
    """The named IANA time zone, or InvalidInput."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"unknown time zone {name!r}") from exc


def detect_encoding(stream: IO[bytes]) -> str:
    """The text encoding of a CSV: a BOM says it; else UTF-8 if all of it decodes, else GB18030.

    The whole file is decoded once up front, so a bad byte stops the import before any row is
    written rather than half way through.
    """
    head = stream.read(4)
    stream.seek(0)
    if head.startswith(codecs.BOM_UTF8):
        candidates: tuple[str, ...] = ("utf-8-sig",)
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ("utf-16",)
    else:
        candidates = ("utf-8", "gb18030")
    for encoding in candidates:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            while block := stream.read(1 << 20):
                decoder.decode(block)
            decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
        finally:
            stream.seek(0)
    raise InvalidInput(f"the file is not readable as {' or '.join(candidates)} text")


def _csv_rows(stream: IO[bytes]) -> Generator[list[str], None, None]:
    text = io.TextIOWrapper(stream, encoding=detect_encoding(stream), newline="")
    first_line = text.readline()
    text.seek(0)
    delimiter = max(",\t;|", key=first_line.count) if first_line.strip() else ","
    try:
        yield from csv.reader(text, delimiter=delimiter)
    except csv.Error as exc:
        raise InvalidInput(f"unreadable CSV: {exc}") from exc
    finally:
        text.detach()


def _xlsx_rows(stream: IO[bytes]) -> Generator[tuple[Any, ...], None, None]:
    # A damaged workbook fails in zipfile, the XML parser or openpyxl itself, with many types.
    try:
        workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:
        raise InvalidInput(f"not a readable .xlsx workbook: {exc}") from exc
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        yield from sheet.iter_rows(values_only=True)
    except (zipfile.BadZipFile, SyntaxError, KeyError, ValueError) as exc:
        raise InvalidInput(f"unreadable .xlsx sheet: {exc}") from exc
    finally:
        workbook.close()


def read_table(stream: IO[bytes], filename: str) -> tuple[list[str], Generator[Any, None, None]]:
    """The header row and the data rows of a CSV or XLSX file; close the rows when done."""
    suffix = PurePath(filename).suffix.lower()
    if suffix in CSV_EXTENSIONS:
        rows: Generator[Any, None, None] = _csv_rows(stream)
    elif suffix in XLSX_EXTENSIONS:
        rows = _xlsx_rows(stream)
    elif suffix == ".xls":
        raise InvalidInput("old .xls workbooks are not read: save the file as .xlsx or CSV")
    else:
        raise InvalidInput(f"unknown file type {suffix or filename!r}: use .csv or .xlsx")
    try:
        headers = [cell_text(cell) or "" for cell in next(rows, None) or ()]
        if not any(headers):
            raise InvalidInput("the first row of the file must hold the column headers")
    except BaseException:
        rows.close()
        raise
    return headers, rows
