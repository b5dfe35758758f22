"""The messages between a process that maps events and its sandbox processes: length-prefixed frames (no Django)."""

from __future__ import annotations

import json
import struct
from dataclasses import asdict, dataclass

# A sandbox process that exits with this code stopped itself: it held more memory than its run was allowed.
MEMORY_EXIT_CODE = 75
_LENGTH = struct.Struct(">I")


@dataclass(frozen=True)
class MappingLimits:
    """What one run may take: wall-clock time, V8 heap, JSON output size and console output."""

    timeout_ms: int = 50
    memory_bytes: int = 32 * 1024 * 1024
    output_bytes: int = 256 * 1024
    log_chars: int = 64 * 1024
    script_bytes: int = 64 * 1024


def memory_message(memory_bytes: int) -> str:
    return f"the script used more than the memory limit of {memory_bytes / (1024 * 1024):g} MiB"


def frame(payload: bytes) -> bytes:
    return _LENGTH.pack(len(payload)) + payload


def frame_length(header: bytes) -> int:
    return _LENGTH.unpack(header)[0]


FRAME_HEADER_BYTES = _LENGTH.size


def run_request(*, script: str, events: list[bytes], environment: str, limits: MappingLimits) -> bytes:
    """Map each event (compact JSON) with the environment's script: the header line, then the events back to back."""
    header = {
        "op": "run",
        "environment": environment,
        "script": script,
        "limits": asdict(limits),
        "sizes": [len(event) for event in events],
    }
    return frame(json.dumps(header).encode() + b"\n" + b"".join(events))


def check_request(*, script: str, environment: str, limits: MappingLimits) -> bytes:
    header = {"op": "check", "environment": environment, "script": script, "limits": asdict(limits)}
    return frame(json.dumps(header).encode() + b"\n")


def request_parse(payload: bytes) -> tuple[dict, list[str]]:
    header_line, _, rest = payload.partition(b"\n")
    header = json.loads(header_line)
    events, offset = [], 0
    for size in header.get("sizes", ()):
        events.append(rest[offset : offset + size].decode())
        offset += size
    return header, events


def answer(report: dict, output_json: str = "") -> bytes:
    """One run's outcome: a JSON report line, then the output's JSON text as V8 wrote it."""
    return frame(json.dumps(report).encode() + b"\n" + output_json.encode("utf-8", "surrogatepass"))


def answer_parse(payload: bytes) -> tuple[dict, bytes]:
    report_line, _, output_json = payload.partition(b"\n")
    return json.loads(report_line), output_json
