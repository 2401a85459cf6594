"""The simulator's error type: an HTTP status plus the exact JSON body Kimi sends."""

from __future__ import annotations

import json


class ApiError(Exception):
    """A request the simulator answers with an error body instead of a completion."""

    def __init__(
        self,
        status: int,
        type_: str,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.headers = dict(headers or {})

    def body(self) -> bytes:
        """Return the compact JSON envelope Moonshot uses (KIMI_WIRE §6.1)."""
        error = {"error": {"message": self.message, "type": self.type}}
        return json.dumps(error, ensure_ascii=False, separators=(",", ":")).encode()


def invalid(message: str) -> ApiError:
    """Return a 400 `invalid_request_error` with `message` verbatim."""
    return ApiError(400, "invalid_request_error", message)


def not_found_model(model: object) -> ApiError:
    """Return the live 404 for a model the endpoint does not serve (KIMI_WIRE §6.3)."""
    message = f"Not found the model {model} or Permission denied"
    return ApiError(404, "resource_not_found_error", message)


def unauthorized() -> ApiError:
    """Return the live 401 for a missing or wrong Bearer key."""
    return ApiError(401, "invalid_authentication_error", "Invalid Authentication")
