"""Read an offline W&B run file (``run-<id>.wandb``) back: its run id and its history rows.

wandb >= 0.2x writes the file from its Go core and no longer ships a Python reader. The format is LevelDB's log
format behind a 7-byte header (``:W&B``, a 2-byte magic, a version byte): 32 KiB blocks of records, each with a
4-byte CRC, a 2-byte little-endian length and a 1-byte type (1 full, 2 first, 3 middle, 4 last of a fragmented
record); each record is a ``wandb_internal_pb2.Record`` protobuf.
"""

import json
import struct
import time
from pathlib import Path
from typing import Any

from wandb.proto import wandb_internal_pb2

_BLOCK = 32 * 1024
_HEADER = 7


def records(path: Path) -> list[Any]:
    data = Path(path).read_bytes()
    assert data[:4] == b":W&B", f"{path} is not a W&B run file"
    out, pending, pos = [], b"", _HEADER
    while pos + _HEADER <= len(data):
        left = _BLOCK - pos % _BLOCK
        if left < _HEADER:  # block trailer padding
            pos += left
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos : pos + _HEADER])
        if length == 0 and kind == 0:
            pos += left  # zero padding up to the next block
            continue
        chunk = data[pos + _HEADER : pos + _HEADER + length]
        pos += _HEADER + length
        pending = chunk if kind in (1, 2) else pending + chunk
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            out.append(record)
            pending = b""
    return out


def run_id(path: Path) -> str:
    return next(r.run.run_id for r in records(path) if r.WhichOneof("record_type") == "run")


def history(path: Path) -> list[dict[str, Any]]:
    rows = []
    for record in records(path):
        if record.WhichOneof("record_type") == "history":
            rows.append(
                {(item.key or "/".join(item.nested_key)): json.loads(item.value_json) for item in record.history.item}
            )
    return rows


def wait_until_closed(path: Path, timeout: float = 120.0) -> None:
    """Wait until W&B's core process has written the run's ``exit`` record (it writes the file asynchronously)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if any(r.WhichOneof("record_type") == "exit" for r in records(path)):
                return
        except Exception:  # a record half-written at this moment
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{path} has no exit record after {timeout} s")
