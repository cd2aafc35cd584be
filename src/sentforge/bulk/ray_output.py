"""The output folder of a Ray encode: checked to be empty before, written in corpus order, summed up after."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import SentforgeError

ROWS_PER_SHARD = 50_000
"""Rows gathered into one output parquet file (the last file may hold fewer)."""


@dataclass
class BulkEncodeResult:
    """What was written: the output folder, its shard files (in corpus order), rows, dimension, value type."""

    folder: str
    shards: list[str]
    rows: int
    dimension: int
    dtype: str


def _file_system(output: str) -> tuple[Any, str, str]:
    """The pyarrow file system of ``output``, the path in it, and the location to hand to Ray."""
    import pyarrow.fs as pafs

    if "://" in output:
        fs, path = pafs.FileSystem.from_uri(output)
        return fs, path, output
    path = str(Path(output).expanduser().resolve())
    return pafs.LocalFileSystem(), path, path


def check_empty_output(output: str) -> str:
    """The location to write to (absolute path or URI); a SentforgeError if it is a file or holds files."""
    import pyarrow.fs as pafs

    fs, path, location = _file_system(output)
    info = fs.get_file_info(path)
    if info.type == pafs.FileType.File:
        raise SentforgeError(f"--out '{output}' is a file; name a folder for the parquet shards.")
    if info.type == pafs.FileType.Directory and fs.get_file_info(pafs.FileSelector(path, recursive=True)):
        raise SentforgeError(f"The folder '{output}' is not empty. Name a new folder with --out, or empty this one.")
    return location


class ShardWriter:
    """Writes tables, in the order given, to ``part-00000.parquet``, ``part-00001.parquet``... in a folder.

    Each file holds ``rows_per_shard`` rows (the last may hold fewer), so the files sorted by name hold
    the rows in the order they were written. Ray Data's own writers do not keep that order on every
    version, so the driver writes the shards from the ordered stream of embedded blocks.
    """

    def __init__(self, location: str, rows_per_shard: int) -> None:
        self.fs, self.folder, _ = _file_system(location)
        self.rows_per_shard = rows_per_shard
        self.shards = 0
        self.rows_in_shard = 0
        self.writer: Any = None
        self.stream: Any = None

    def write(self, table: Any) -> None:
        """Append ``table``'s rows, opening the next shard whenever one is full."""
        start = 0
        while start < table.num_rows:
            if self.writer is None:
                self._open(table.schema)
            take = min(self.rows_per_shard - self.rows_in_shard, table.num_rows - start)
            self.writer.write_table(table.slice(start, take))
            self.rows_in_shard += take
            start += take
            if self.rows_in_shard == self.rows_per_shard:
                self._close_shard()

    def close(self) -> None:
        """Finish the last shard."""
        if self.writer is not None:
            self._close_shard()

    def _open(self, schema: Any) -> None:
        import pyarrow.parquet as pq

        self.fs.create_dir(self.folder, recursive=True)
        self.stream = self.fs.open_output_stream(f"{self.folder}/part-{self.shards:05d}.parquet")
        self.writer = pq.ParquetWriter(self.stream, schema)

    def _close_shard(self) -> None:
        self.writer.close()
        self.stream.close()
        self.writer, self.stream, self.rows_in_shard = None, None, 0
        self.shards += 1


def written_shards(location: str) -> BulkEncodeResult:
    """The parquet shards written to ``location`` (sorted by name), their rows, dimension and value type."""
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

    fs, path, _ = _file_system(location)
    found = fs.get_file_info(pafs.FileSelector(path, allow_not_found=True))
    shards = sorted(entry.path for entry in found if entry.path.endswith(".parquet"))
    rows, dimension, dtype = 0, 0, "float32"
    for shard in shards:
        with fs.open_input_file(shard) as handle:
            metadata = pq.ParquetFile(handle).metadata
            rows += metadata.num_rows
    if shards:
        with fs.open_input_file(shards[0]) as handle:
            first = pq.ParquetFile(handle).read_row_group(0, columns=["embedding"]).column(0)
        dimension = len(first[0]) if len(first) else 0
        dtype = str(first.type.value_type)
        dtype = "float32" if dtype == "float" else dtype
    return BulkEncodeResult(location, shards, rows, dimension, dtype)
