"""Checks common to all data files (exists, extension, UTF-8) and the csv/tsv reader.

Every problem a user can have with a file (missing, empty, header only, ragged rows, bytes that
are not UTF-8, an invalid JSON line, an unknown extension) becomes a single SentforgeError that
says where the problem is and how to fix it, instead of a pandas or pyarrow traceback.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .missing_values import numbers_with_gaps
from .tables import Table, cell_too_long_error
from ..errors import SentforgeError

TEXT_EXTENSIONS = {".csv": ",", ".tsv": "\t"}
JSON_LINES_EXTENSIONS = (".jsonl", ".ndjson")
SUPPORTED_EXTENSIONS = (".csv", ".tsv", ".jsonl", ".ndjson", ".json", ".parquet")

_CHUNK_BYTES = 1 << 20
# Hard ceiling for one csv field while parsing, so that a runaway field cannot exhaust memory;
# the per-cell limit the user sees is checked after parsing and is much smaller.
_CSV_FIELD_CEILING = 256 * (1 << 20)
_INT_PATTERN = re.compile(r"^[+-]?\d+$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")


def check_readable_file(path: Path) -> None:
    """Raise SentforgeError if ``path`` is missing, a directory, empty, or has an unknown extension."""
    if not path.exists():
        raise SentforgeError(
            f"Data file not found: '{path}' (working directory: {Path.cwd()}). "
            "Check the path, or pass an absolute path."
        )
    if path.is_dir():
        raise SentforgeError(
            f"'{path}' is a folder, not a data file. Pass one file ({', '.join(SUPPORTED_EXTENSIONS)}), "
            "or a folder written by datasets' save_to_disk()."
        )
    if data_extension(path) not in SUPPORTED_EXTENSIONS:
        raise SentforgeError(
            f"Cannot read '{path.name}': unknown extension '{path.suffix or '(none)'}'. "
            f"Supported: {', '.join(SUPPORTED_EXTENSIONS)}. Rename the file if it is one of these "
            "formats, or convert it (e.g. with pandas: df.to_csv('data.csv', index=False))."
        )
    if path.stat().st_size == 0:
        raise SentforgeError(f"Data file '{path}' is empty (0 bytes). Point to the file that holds your rows.")


def data_extension(path: Path) -> str:
    return path.suffix.lower()


def check_utf8(path: Path) -> None:
    """Stream the file once and raise SentforgeError at the first byte that is not valid UTF-8."""
    offset, line, carry = 0, 1, b""
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK_BYTES):
            data = carry + chunk
            try:
                data.decode("utf-8")
                good, carry = data, b""
            except UnicodeDecodeError as err:
                if err.reason == "unexpected end of data" and len(data) - err.start < 4:
                    good, carry = data[: err.start], data[err.start :]
                else:
                    bad_line = line + data[: err.start].count(b"\n")
                    raise _not_utf8_error(path, offset + err.start, bad_line, data[err.start]) from None
            line += good.count(b"\n")
            offset += len(good)
    if carry:
        raise _not_utf8_error(path, offset, line, carry[0])


def _not_utf8_error(path: Path, offset: int, line: int, byte: int) -> SentforgeError:
    return SentforgeError(
        f"'{path.name}' is not valid UTF-8: byte 0x{byte:02x} at byte offset {offset} (line {line}). "
        "Re-encode the file as UTF-8, e.g. `iconv -f cp1252 -t utf-8 in.csv > out.csv` (use the "
        "encoding it was saved in; latin-1 and cp1252 are common), or in a spreadsheet choose "
        "'Save as CSV UTF-8'."
    )


@contextmanager
def _csv_field_limit(limit: int) -> Iterator[None]:
    previous = csv.field_size_limit()
    csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def read_delimited(path: Path, max_cell_chars: int | None = None) -> Table:
    """Read a csv or tsv file with a header row; reject ragged rows with their line number.

    The csv parser stops at the first field longer than ``max_cell_chars``, so an oversized cell
    costs no more memory than its line. A tab-separated file whose quotes do not pair up (MRPC's
    texts start with a quote they never close) is read again with quotes as plain characters, and
    kept that way if every row then has the header's fields.
    """
    delimiter = _header_delimiter(path, TEXT_EXTENSIONS[data_extension(path)])
    try:
        return _read_delimited(path, delimiter, csv.QUOTE_MINIMAL, max_cell_chars)
    except SentforgeError as quoted_error:
        if delimiter != "\t":
            raise
        try:
            return _read_delimited(path, delimiter, csv.QUOTE_NONE, max_cell_chars)
        except SentforgeError:
            raise quoted_error from None


def _header_delimiter(path: Path, expected: str) -> str:
    """The file's delimiter: ``expected``, unless a csv's header line has no comma but semicolons (a
    spreadsheet saved in a locale that writes decimal commas separates fields with ';')."""
    if expected != ",":
        return expected
    with open(path, encoding="utf-8-sig", newline="") as handle:
        header = handle.readline()
    return ";" if "," not in header and ";" in header and "\t" not in header else expected


def _read_delimited(path: Path, delimiter: str, quoting: int, max_cell_chars: int | None) -> Table:
    kind = "tab-separated" if delimiter == "\t" else "comma-separated"
    field_limit = _CSV_FIELD_CEILING if max_cell_chars is None else min(max_cell_chars, _CSV_FIELD_CEILING)
    header: list[str] | None = None
    rows: list[list[str]] = []
    line_of_row: list[int] = []
    with path.open("r", encoding="utf-8-sig", newline="") as handle, _csv_field_limit(field_limit):
        last_line = [""]
        reader = csv.reader(_remember_last(handle, last_line), delimiter=delimiter, quoting=quoting)
        previous_end = 0
        try:
            for record in reader:
                start_line, previous_end = previous_end + 1, reader.line_num
                if not record:
                    continue  # blank line
                if header is None:
                    header = _checked_header(path, record, delimiter)
                    continue
                if len(record) > len(header) and not any(cell.strip() for cell in record[len(header):]):
                    record = record[:len(header)]  # the empty fields after a trailing delimiter
                if len(record) != len(header):
                    raise _ragged_error(path, start_line, len(record), header, kind)
                rows.append(record)
                line_of_row.append(start_line)
        except csv.Error as err:
            if "field larger than field limit" in str(err) and max_cell_chars is not None:
                column = _longest_field_column(last_line[0], delimiter, header)
                raise cell_too_long_error(len(rows) + 1, previous_end + 1, column, 0, max_cell_chars) from None
            raise SentforgeError(
                f"'{path.name}' could not be parsed as {kind} text near line {reader.line_num + 1}: {err}. "
                "Check the quoting on that line (a field that contains the delimiter, a quote or a "
                "line break must be wrapped in double quotes, with inner quotes doubled)."
            ) from None
    if header is None:
        raise SentforgeError(f"Data file '{path}' is blank: no header and no rows. Point to the file with your data.")
    if not rows:
        raise SentforgeError(
            f"'{path.name}' has a header ({', '.join(header)}) but no data rows. Add rows below the header."
        )
    decimal_comma = delimiter == ";"  # spreadsheets that separate fields with ';' write 4,5 for 4.5
    columns = {name: _typed_column([row[i] for row in rows], decimal_comma) for i, name in enumerate(header)}
    return Table(columns, line_of_row)


def _remember_last(lines: Iterator[str], last: list[str]) -> Iterator[str]:
    for line in lines:
        last[0] = line
        yield line


def _longest_field_column(line: str, delimiter: str, header: list[str] | None) -> str | None:
    """Best guess of the column holding the longest field of a line (exact when nothing is quoted)."""
    pieces = [len(piece) for piece in line.split(delimiter)]
    if header is None or len(pieces) != len(header):
        return None
    return header[pieces.index(max(pieces))]


def _checked_header(path: Path, record: list[str], delimiter: str) -> list[str]:
    if delimiter == "," and len(record) == 1 and record[0].count("\t") >= 1:
        raise SentforgeError(
            f"'{path.name}' looks tab-separated (its first line has tabs and no commas) but is named .csv. "
            "Rename it to .tsv; its first line must then name the columns (e.g. sentence1<TAB>sentence2<TAB>score)."
        )
    header = [name.strip() for name in record]
    while len(header) > 1 and not header[-1]:
        header.pop()  # a trailing delimiter (spreadsheets write 'a,b,c,'): its column must stay empty
    numbers = [cell for cell in header if _is_number(cell)]
    if numbers:
        raise SentforgeError(
            f"The first line of '{path.name}' looks like data, not column names: it holds the number {numbers[0]}. "
            "Add a first line that names the columns (e.g. sentence1,sentence2,score)."
        )
    for position, name in enumerate(header, start=1):
        if not name:
            raise SentforgeError(
                f"'{path.name}': column {position} of the header row has no name. "
                "Give every column a name in the first line (e.g. sentence1,sentence2,score)."
            )
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise SentforgeError(
            f"'{path.name}': the header repeats column name(s) {', '.join(duplicates)}. Make every column name unique."
        )
    return header


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return cell.strip().lower() not in ("nan", "inf", "-inf", "infinity")


def _ragged_error(path: Path, line: int, fields: int, header: list[str], kind: str) -> SentforgeError:
    sep = "tab" if kind.startswith("tab") else "comma"
    return SentforgeError(
        f"'{path.name}' line {line} has {fields} fields but the header has {len(header)} "
        f"({', '.join(header)}). Usually a text on that line contains a {sep} or a stray quote: wrap "
        "such fields in double quotes (doubling any inner quotes), or save the data as .jsonl."
    )


def _typed_column(raw: list[str], decimal_comma: bool = False) -> list[Any]:
    """Numbers stay numbers (ints, else floats; an empty cell or a word such as ``n/a`` becomes a missing
    value), text stays text."""
    filled = [value.strip() for value in raw if value.strip()]
    if not filled:
        return raw
    if decimal_comma and all(_DECIMAL_COMMA.match(value) or _INT_PATTERN.match(value) for value in filled):
        raw = [value.replace(",", ".") for value in raw]
    if all(_INT_PATTERN.match(value) for value in filled):
        return [int(value) if value.strip() else None for value in raw]
    try:
        [float(value) for value in filled]
    except ValueError:
        return numbers_with_gaps(raw) or raw  # 0.4, n/a, 0.7: numbers with a missing value
    return [float(value) if value.strip() else None for value in raw]
