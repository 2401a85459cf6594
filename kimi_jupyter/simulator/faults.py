"""Fault modes: what each one sends, and which requests they hit (`times=` counters)."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

from .errors import ApiError

HTTP_FAULTS = ("overloaded", "rate-limit", "quota", "500", "502", "503", "504")
STREAM_FAULTS = ("reset-mid-stream", "stall", "malformed", "no-done", "error-frame", "keepalive")
FAULTS = (*HTTP_FAULTS, "reset-before-headers", *STREAM_FAULTS)

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
        stall: seconds a `stall` fault sends nothing.
        at: SSE events sent before a mid-stream fault strikes.
    """

    name: str
    after: int = 1
    retry_after: int | None = None
    stall: float = 30.0
    at: int = 3


def make_fault(name: str, **params: object) -> Fault:
    """Build a `Fault`, checking the name and converting string knobs (from directives/CLI)."""
    if name not in FAULTS:
        raise ValueError(f"unknown fault {name!r}; expected one of: {', '.join(FAULTS)}")
    unknown = set(params) - {"after", "retry_after", "stall", "at"}
    if unknown:
        raise ValueError(f"unknown fault parameter(s): {', '.join(sorted(unknown))}")
    retry = params.get("retry_after")
    return Fault(
        name=name,
        after=_whole(params.get("after", 1), "after"),
        retry_after=None if retry is None else _whole(retry, "retry_after"),
        stall=_number(params.get("stall", 30.0), "stall"),
        at=_whole(params.get("at", 3), "at"),
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
    return ApiError(status, type_, message, headers)


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
