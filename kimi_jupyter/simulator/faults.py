"""Fault modes: what each one sends, and which requests they hit (`times=` counters).

A fault may name a kind after a colon, `fault=NAME:KIND` (the first kind is the default):

    malformed:json          a data line that is not JSON (the body cut in half, unstreamed)
    malformed:null-choice   `choices: [null]`
    malformed:bad-content   a number as `delta.content` (`message.content`)
    malformed:bad-usage     words as token counts
    malformed:odd-shape     `choices` an object instead of a list
    stall:silent            nothing for `stall` seconds, then the rest
    stall:trickle           the rest one byte at a time, `stall` seconds apart (default 1)
    stall:keepalive         `stall` seconds of `: keep-alive` comments only (unstreamed:
                            blank space before the body), then the rest
    reset-mid-stream:between   a TCP reset between two events
    reset-mid-stream:in-event  a TCP reset halfway through an event
    NAME:echo-key           any HTTP fault, from a gateway that echoes the API key it got:
                            in the message (plain, JSON-escaped, percent-encoded), as the
                            type, and as the `Msh-Request-Id` header
"""

from __future__ import annotations

import hashlib
import json
import threading
import urllib.parse
from dataclasses import dataclass

from .errors import ApiError

HTTP_FAULTS = ("overloaded", "rate-limit", "quota", "500", "502", "503", "504")
STREAM_FAULTS = ("reset-mid-stream", "stall", "malformed", "no-done", "error-frame", "keepalive")
FAULTS = (*HTTP_FAULTS, "reset-before-headers", *STREAM_FAULTS)
KINDS: dict[str, tuple[str, ...]] = {
    "malformed": ("json", "null-choice", "bad-content", "bad-usage", "odd-shape"),
    "stall": ("silent", "trickle", "keepalive"),
    "reset-mid-stream": ("between", "in-event"),
    **dict.fromkeys(HTTP_FAULTS, ("plain", "echo-key")),
}

GATEWAY_TIMEOUT_HTML = (
    b"<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n"
    b"<center><h1>504 Gateway Time-out</h1></center>\r\n</body>\r\n</html>\r\n"
)


@dataclass(frozen=True)
class Fault:
    """One fault to inject, with its knobs.

    Attributes:
        name: one of `FAULTS`.
        after: seconds quoted in the rate-limit message ("please try again after N seconds").
        retry_after: value of a `Retry-After` header on 429/503 faults (None: no header).
        stall: seconds a `stall` fault sends nothing (a trickle: seconds between bytes).
        at: SSE events sent before a mid-stream fault strikes.
        kind: the variant (`KINDS`), "" for faults that have none.
    """

    name: str
    after: int = 1
    retry_after: int | None = None
    stall: float = 30.0
    at: int = 3
    kind: str = ""


def make_fault(name: str, **params: object) -> Fault:
    """Build a `Fault` from `NAME` or `NAME:KIND`, checking both and converting string knobs
    (from directives/CLI)."""
    name, _, kind = name.partition(":")
    if name not in FAULTS:
        raise ValueError(f"unknown fault {name!r}; expected one of: {', '.join(FAULTS)}")
    kinds = KINDS.get(name, ())
    if kind and kind not in kinds:
        known = f"one of: {', '.join(kinds)}" if kinds else "none (it has no kinds)"
        raise ValueError(f"unknown kind {kind!r} of fault {name}; expected {known}")
    unknown = set(params) - {"after", "retry_after", "stall", "at"}
    if unknown:
        raise ValueError(f"unknown fault parameter(s): {', '.join(sorted(unknown))}")
    retry = params.get("retry_after")
    kind = kind or (kinds[0] if kinds else "")
    return Fault(
        name=name,
        after=_whole(params.get("after", 1), "after"),
        retry_after=None if retry is None else _whole(retry, "retry_after"),
        stall=_number(params.get("stall", 1.0 if kind == "trickle" else 30.0), "stall"),
        at=_whole(params.get("at", 3), "at"),
        kind=kind,
    )


def _number(value: object, name: str) -> float:
    try:
        number = float(str(value))
    except ValueError:
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not number >= 0:
        raise ValueError(f"{name} must not be negative, got {value!r}")
    return number


def _whole(value: object, name: str) -> int:
    number = _number(value, name)
    if not number.is_integer():
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    return int(number)


def http_fault(fault: Fault, api_key: str) -> ApiError:
    """Return the error response a pre-response fault sends (the 504 body is HTML, see server)."""
    headers = {}
    if fault.retry_after is not None and fault.name in ("overloaded", "rate-limit", "quota", "503"):
        headers["Retry-After"] = str(fault.retry_after)
    org, ak = _account(api_key)
    status, type_, message = {
        "overloaded": (
            429,
            "engine_overloaded_error",
            "The engine is currently overloaded, please try again later",
        ),
        "rate-limit": (
            429,
            "rate_limit_reached_error",
            f"Your account {org}<{ak}> request reached organization max RPM: 3, "
            f"please try again after {fault.after} seconds",
        ),
        # The space before `<ak-…>` is in the recorded body (KIMI_WIRE §6.3).
        "quota": (
            429,
            "exceeded_current_quota_error",
            f"Your account {org} <{ak}> is suspended due to insufficient balance, "
            "please recharge your account",
        ),
        # [UNVERIFIED] 500/502/503 message texts; only the types are documented.
        "500": (500, "server_error", "Internal server error, please try again later"),
        "502": (502, "server_error", "Bad gateway, please try again later"),
        "503": (503, "server_unavailable", "The service is temporarily unavailable"),
        "504": (504, "gateway_timeout", "504 Gateway Time-out"),
    }[fault.name]
    if fault.kind == "echo-key":
        return _echoing(status, api_key, headers)
    return ApiError(status, type_, message, headers)


def _echoing(status: int, api_key: str, headers: dict[str, str]) -> ApiError:
    """A gateway that shows the key it was sent, in every form a key leaks in."""
    sent = json.dumps({"authorization": f"Bearer {api_key}"}).replace("/", "\\/")
    escaped = "".join(f"\\u{ord(char):04x}" for char in api_key)
    encoded = urllib.parse.quote(api_key, safe="")
    message = (
        f"Invalid key {api_key}; upstream said {sent}; escaped {escaped}; see /login?key={encoded}"
    )
    return ApiError(
        status, f"invalid_key:{api_key}", message, {**headers, "Msh-Request-Id": api_key}
    )


def _account(api_key: str) -> tuple[str, str]:
    """Derive stable fake org/ak ids from the key, so messages are deterministic per key."""
    digest = hashlib.sha256(api_key.encode()).hexdigest()
    return f"org-{digest[:32]}", f"ak-{digest[32:52]}"


class FaultBook:
    """Decides which fault, if any, hits each request; safe to share between handler threads."""

    def __init__(self, fault: Fault | None = None, times: int | None = None) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, int] = {}
        self._global = fault
        self._left = times

    def set_global(self, fault: Fault | None, times: int | None) -> None:
        """Make `fault` hit the next `times` requests (None: every request)."""
        with self._lock:
            self._global, self._left = fault, times

    def take(self, key: str, fault: Fault | None, times: int | None) -> Fault | None:
        """Return the fault for this request; a directive's `times` counts per directive text."""
        with self._lock:
            if fault is not None:
                seen = self._seen.get(key, 0)
                self._seen[key] = seen + 1
                # Once a directive's budget is spent the request succeeds, so clients can
                # test that their retry worked; the global fault does not step in.
                return fault if times is None or seen < times else None
            if self._global is None or self._left == 0:
                return None
            if self._left is not None:
                self._left -= 1
            return self._global
