"""The one error tree, and the one function that turns an HTTP error response into it.

```
KimiError
├── ConfigurationError            no API key, a bad setting
├── ContextError                  an object cannot be sent (wrong format, too big, empty)
├── APIError                      the service answered with an error status
│   ├── BadRequestError           400: invalid request, content filter
│   │   └── ContextLengthError    400: the prompt is over the model's context window
│   ├── AuthenticationError       401: missing, wrong or other-platform key
│   ├── PermissionDeniedError     403
│   ├── NotFoundError             404: unknown or retired model, wrong base URL
│   ├── RateLimitError            429 rate_limit_reached_error (retried)
│   │   ├── OverloadedError       429 engine_overloaded_error (retried)
│   │   └── QuotaExceededError    429 exceeded_current_quota_error (billing; never retried)
│   └── ServerError               5xx (500/502/503/504 retried)
├── APIConnectionError            no response: refused, reset, DNS
│   └── APITimeoutError           connect timeout, or no chunk within the read timeout
│       └── DeadlineError         KIMI_TIMEOUT passed before the answer began (not retried)
└── StreamError                   the stream broke after it started; carries the partial turn
```

Nothing is retried once the first byte of a stream has arrived (see `client.py`). Whatever
the server said is shown with the API key masked in every form (`_redact`).
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._redact import redact

if TYPE_CHECKING:
    from .turn import Turn

_RETRY_HINT = re.compile(r"try again after (\d+(?:\.\d+)?) ?s(?:econds?)?", re.IGNORECASE)
_RETRIED_STATUSES = frozenset({500, 502, 503, 504})


class KimiError(Exception):
    """Base class of every error kimi-jupyter raises on purpose."""

    retryable: bool = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigurationError(KimiError):
    """A setting is missing or invalid (no API key, a bad base URL)."""


class ContextError(KimiError):
    """A mentioned object cannot be sent to Kimi: wrong format, too big, or empty."""


class APIError(KimiError):
    """The service answered with an error status."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        type: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type
        self.request_id = request_id
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, type={self.type!r}, {self.message!r})"


class BadRequestError(APIError):
    """400: the request was invalid or was refused by the content filter."""


class ContextLengthError(BadRequestError):
    """The conversation is longer than the model's context window."""


class AuthenticationError(APIError):
    """401: the key is missing, wrong, or issued by another platform."""


class PermissionDeniedError(APIError):
    """403: the key may not use this API (or this IP is not allowed)."""


class NotFoundError(APIError):
    """404: the model does not exist or was retired, or the base URL is wrong."""


class RateLimitError(APIError):
    """429 rate_limit_reached_error: too many requests for the account's tier."""

    retryable = True


class OverloadedError(RateLimitError):
    """429 engine_overloaded_error: the service is at capacity."""


class QuotaExceededError(RateLimitError):
    """429 exceeded_current_quota_error: a billing problem; waiting will not help."""

    retryable = False


class ServerError(APIError):
    """5xx: the service failed."""

    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retryable = self.status in _RETRIED_STATUSES


class APIConnectionError(KimiError):
    """No response arrived: the connection was refused, reset or never made."""

    retryable = True


class APITimeoutError(APIConnectionError):
    """The connection or the next chunk took longer than the configured timeout."""


class DeadlineError(APITimeoutError):
    """The request's total deadline (`timeout`, KIMI_TIMEOUT) passed before any answer."""

    retryable = False


class StreamError(KimiError):
    """The stream broke after it started; `partial` holds what arrived before."""

    def __init__(self, message: str, partial: Turn | None = None) -> None:
        super().__init__(message)
        self.partial = partial


_BY_TYPE: Mapping[str, type[APIError]] = {
    "engine_overloaded_error": OverloadedError,
    "rate_limit_reached_error": RateLimitError,
    "exceeded_current_quota_error": QuotaExceededError,
}
_BY_STATUS: Mapping[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
}
_ADVICE: Mapping[type[APIError], str] = {
    AuthenticationError: (
        "check KIMI_API_KEY (or MOONSHOT_API_KEY / ANYFAST_API_KEY): keys only work on the "
        "platform that issued them"
    ),
    QuotaExceededError: "this is a billing limit: top up or check the plan; retrying will not help",
    NotFoundError: "check the model name and KIMI_BASE_URL",
    ContextLengthError: "start a new session or shorten the prompt",
}


def error_from_response(
    status: int, body: bytes, headers: Mapping[str, str], *, secret: str | None = None
) -> APIError:
    """Build the typed error for an HTTP error response (Kimi's `{"error": {...}}` bodies)."""
    message, err_type = _parse_error_body(body, status, secret)
    err_type = redact(err_type, secret) if err_type else None
    cls = _BY_TYPE.get(err_type or "") or _BY_STATUS.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else APIError
    if cls is BadRequestError and _is_context_overflow(message):
        cls = ContextLengthError
    advice = _ADVICE.get(cls)
    text = f"Kimi API error {status}" + (f" ({err_type})" if err_type else "") + f": {message}"
    if advice:
        text += f" ({advice})"
    request_id = headers.get("msh-request-id") or headers.get("x-request-id")
    return cls(
        text,
        status=status,
        type=err_type,
        request_id=redact(request_id, secret) if request_id else None,
        retry_after=retry_after_seconds(headers, message),
    )


def one_line(exc: BaseException, max_chars: int | None = None, *, named: bool = True) -> str:
    """`ValueError: what it said` on one line (cut to `max_chars`); without `named`, only what
    it said (its type when it said nothing). An `__str__` that raises still gives the type."""
    try:
        message = " ".join(str(exc).split())
    except Exception:  # noqa: BLE001 - user code again
        message = ""
    text = message or type(exc).__name__
    if named and message:
        text = f"{type(exc).__name__}: {message}"
    if max_chars is not None and len(text) > max_chars:
        text = text[: max_chars - 1] + "…"
    return text


def retry_after_seconds(headers: Mapping[str, str], message: str = "") -> float | None:
    """How long the server asked us to wait: `Retry-After`, else the hint in the message."""
    value = headers.get("retry-after")
    if value:
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            when = email.utils.parsedate_to_datetime(value) if value else None
            if when is not None:
                return max(0.0, when.timestamp() - time.time())
    hint = _RETRY_HINT.search(message)
    return float(hint.group(1)) if hint else None


def _parse_error_body(body: bytes, status: int, secret: str | None) -> tuple[str, str | None]:
    """The message (masked, then cut: a cut must not leave a piece of the key) and type."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text) if text else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        err = data.get("error", data)
        if isinstance(err, dict) and err.get("message"):
            err_type = err.get("type")
            return redact(str(err["message"]), secret), str(err_type) if err_type else None
        if isinstance(err, str):
            return redact(err, secret), None
    if text.lstrip().startswith("<"):
        return f"the server returned an HTML error page (HTTP {status})", None
    return (redact(text, secret)[:300] or f"HTTP {status} with an empty body"), None


def _is_context_overflow(message: str) -> bool:
    lowered = message.lower()
    return "exceeded model token limit" in lowered or "input token length too long" in lowered
