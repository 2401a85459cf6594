"""Retries: what is retried, how long we wait (injected sleep), and what never is."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest

from kimi_jupyter import errors
from kimi_jupyter.client import RetryNotice

from helpers import Recorder, make_client, sse, stream_response

PAYLOAD = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "hi"}]}
OK = {"choices": [{"index": 0, "delta": {"content": "ok"}, "finish_reason": "stop"}]}
OVERLOADED = {
    "error": {
        "message": "The engine is currently overloaded, please try again later",
        "type": "engine_overloaded_error",
    }
}
RPM = {
    "error": {
        "message": "Your account org-1<ak-2> request reached organization max RPM: 3, "
        "please try again after 7 seconds",
        "type": "rate_limit_reached_error",
    }
}
QUOTA = {
    "error": {
        "message": "Your account org-1 <ak-2> is suspended due to insufficient balance, "
        "please recharge your account",
        "type": "exceeded_current_quota_error",
    }
}


def ok() -> httpx.Response:
    return stream_response(sse(OK))


def answer(recorder: Recorder, sleeps: list[float], **settings: object) -> str:
    stream = make_client(recorder, sleeps, **settings).stream(PAYLOAD)
    list(stream)
    return stream.turn.answer


def test_overloaded_with_retry_after_header_is_honoured_exactly() -> None:
    sleeps: list[float] = []
    recorder = Recorder(httpx.Response(429, json=OVERLOADED, headers={"Retry-After": "3"}), ok())
    assert answer(recorder, sleeps) == "ok"
    assert sleeps == [3.0]
    assert len(recorder.requests) == 2


def test_retry_after_as_http_date() -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    sleeps: list[float] = []
    recorder = Recorder(httpx.Response(503, text="busy", headers={"Retry-After": when}), ok())
    assert answer(recorder, sleeps) == "ok"
    assert 25 <= sleeps[0] <= 31


def test_rate_limit_hint_in_message_when_no_header() -> None:
    sleeps: list[float] = []
    recorder = Recorder(httpx.Response(429, json=RPM), httpx.Response(429, json=RPM), ok())
    assert answer(recorder, sleeps) == "ok"
    assert sleeps == [7.0, 7.0]


def test_backoff_with_jitter_when_no_hint() -> None:
    sleeps: list[float] = []
    recorder = Recorder(*(httpx.Response(500, text="oops") for _ in range(3)), ok())
    assert answer(recorder, sleeps, max_attempts=4) == "ok"
    assert len(sleeps) == 3
    for attempt, slept in enumerate(sleeps, start=1):
        ceiling = 2.0 ** (attempt - 1)
        assert ceiling / 2 <= slept <= ceiling  # equal jitter between half and full backoff


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried(status: int) -> None:
    recorder = Recorder(httpx.Response(status, text="<html>504 Gateway Time-out</html>"), ok())
    assert answer(recorder, []) == "ok"


def test_connection_failures_are_retried() -> None:
    calls = {"n": 0}

    def flaky(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            raise httpx.ConnectError("connection refused")
        if calls["n"] == 2:
            raise httpx.ConnectTimeout("timed out")
        return ok()

    sleeps: list[float] = []
    assert answer(Recorder(flaky), sleeps) == "ok"
    assert len(sleeps) == 2


def test_attempts_are_bounded_and_the_last_error_is_raised() -> None:
    recorder = Recorder(httpx.Response(429, json=OVERLOADED))
    sleeps: list[float] = []
    with pytest.raises(errors.OverloadedError, match="overloaded"):
        answer(recorder, sleeps, max_attempts=3)
    assert len(recorder.requests) == 3
    assert len(sleeps) == 2


def test_total_wait_is_bounded() -> None:
    recorder = Recorder(httpx.Response(429, json=RPM))  # asks for 7 s each time
    sleeps: list[float] = []
    with pytest.raises(errors.RateLimitError, match="try again after 7 seconds"):
        answer(recorder, sleeps, max_attempts=10, max_retry_wait=20)
    assert sleeps == [7.0, 7.0]  # a third wait would pass 20 s
    assert len(recorder.requests) == 3


def test_a_wait_longer_than_the_budget_is_not_started() -> None:
    recorder = Recorder(httpx.Response(429, json=OVERLOADED, headers={"Retry-After": "600"}))
    sleeps: list[float] = []
    with pytest.raises(errors.OverloadedError):
        answer(recorder, sleeps, max_retry_wait=60)
    assert sleeps == []
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (
            400,
            {"error": {"message": "Invalid request: x", "type": "invalid_request_error"}},
            errors.BadRequestError,
        ),
        (
            401,
            {
                "error": {
                    "message": "Invalid Authentication",
                    "type": "invalid_authentication_error",
                }
            },
            errors.AuthenticationError,
        ),
        (
            403,
            {
                "error": {
                    "message": "The API you are accessing is not open",
                    "type": "permission_denied_error",
                }
            },
            errors.PermissionDeniedError,
        ),
        (
            404,
            {
                "error": {
                    "message": "Not found the model x or Permission denied",
                    "type": "resource_not_found_error",
                }
            },
            errors.NotFoundError,
        ),
        (429, QUOTA, errors.QuotaExceededError),
    ],
)
def test_never_retried(status: int, body: dict[str, object], cls: type[Exception]) -> None:
    recorder = Recorder(httpx.Response(status, json=body, headers={"Retry-After": "1"}), ok())
    sleeps: list[float] = []
    with pytest.raises(cls):
        answer(recorder, sleeps)
    assert len(recorder.requests) == 1
    assert sleeps == []


def test_quota_message_says_it_is_billing() -> None:
    with pytest.raises(errors.QuotaExceededError, match="billing"):
        answer(Recorder(httpx.Response(429, json=QUOTA)), [])


def test_on_retry_is_told_before_each_wait() -> None:
    notices: list[RetryNotice] = []
    client = make_client(
        Recorder(httpx.Response(429, json=OVERLOADED, headers={"Retry-After": "2"}), ok())
    )
    client.on_retry = notices.append
    list(client.stream(PAYLOAD))
    assert [(n.attempt, n.delay, type(n.error)) for n in notices] == [
        (1, 2.0, errors.OverloadedError)
    ]


def test_context_overflow_is_its_own_error() -> None:
    body = {
        "error": {
            "message": "Invalid request: Your request exceeded model token limit: 262144 "
            "(requested: 558009)",
            "type": "invalid_request_error",
        }
    }
    with pytest.raises(errors.ContextLengthError, match="new session"):
        answer(Recorder(httpx.Response(400, json=body)), [])


def test_timeouts_default_and_configurable() -> None:
    client = make_client(Recorder(ok()))
    assert (client._http.timeout.connect, client._http.timeout.read) == (10.0, 120.0)
    client = make_client(Recorder(ok()), read_timeout=5.0, connect_timeout=2.0)
    assert (client._http.timeout.connect, client._http.timeout.read) == (2.0, 5.0)
