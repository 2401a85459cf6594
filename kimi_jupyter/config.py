"""Settings: environment and explicit values folded into one frozen object.

Explicit values beat the environment. The API key is held in a `Secret`, which never shows
its value in `repr`, `str`, f-strings, logs or pickles; only `Secret.reveal()` does, and only
the client calls it, to build the Authorization header.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from .errors import ConfigurationError

DEFAULT_BASE_URL = "https://www.anyfast.ai/v1"
DEFAULT_MODEL = "kimi-k2.6"
CONTEXT_WINDOW = 262_144
KEY_VARIABLES = ("KIMI_API_KEY", "MOONSHOT_API_KEY", "ANYFAST_API_KEY")
_HOSTED = ("anyfast.ai", "moonshot.ai", "moonshot.cn", "kimi.ai", "kimi.com")


class Secret:
    """A string that refuses to be shown; `reveal()` is the only way to read it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> NoReturn:
        raise TypeError("an API key cannot be pickled")


@dataclass(frozen=True)
class Settings:
    """Everything a request needs to know besides the conversation."""

    api_key: Secret | None = field(default=None, repr=False)
    base_url: str = DEFAULT_BASE_URL
    model: str = DEFAULT_MODEL
    connect_timeout: float = 10.0
    read_timeout: float = 120.0
    max_attempts: int = 4
    max_retry_wait: float = 60.0
    context_window: int = CONTEXT_WINDOW
    output_reserve: int = 32_768
    allow_web_search: bool = False  # for gateways that pass Kimi's $web_search through

    def __post_init__(self) -> None:
        key: object = self.api_key
        if isinstance(key, str):  # Settings(api_key="sk-...") is allowed too
            object.__setattr__(self, "api_key", Secret(key) if key else None)
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        if not self.base_url.startswith(("http://", "https://")):
            raise ConfigurationError(
                f"KIMI_BASE_URL must start with http:// or https://, got {self.base_url!r}"
            )
        for name in ("connect_timeout", "read_timeout", "max_retry_wait"):
            if getattr(self, name) <= 0:
                raise ConfigurationError(f"{name} must be positive")
        if self.max_attempts < 1:
            raise ConfigurationError("max_attempts must be at least 1")

    def __repr__(self) -> str:
        key = "set" if self.api_key else "missing"
        return f"Settings(base_url={self.base_url!r}, model={self.model!r}, api_key=<{key}>)"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **explicit: Any) -> Settings:
        """Read the environment, then let explicit non-None values override it."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        key = next((env[name] for name in KEY_VARIABLES if env.get(name)), None)
        if key:
            values["api_key"] = Secret(key.strip())
        if env.get("KIMI_BASE_URL"):
            values["base_url"] = env["KIMI_BASE_URL"].strip()
        if env.get("KIMI_MODEL"):
            values["model"] = env["KIMI_MODEL"].strip()
        if env.get("KIMI_ALLOW_WEB_SEARCH", "").strip().lower() in ("1", "true", "yes"):
            values["allow_web_search"] = True
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(explicit) - known
        if unknown:
            raise ConfigurationError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        values.update({k: v for k, v in explicit.items() if v is not None})
        return cls(**values)

    def require_key(self) -> str:
        """The key for the Authorization header, or one clear error naming where to set it."""
        if self.api_key is None:
            raise ConfigurationError(
                "No Kimi API key: set KIMI_API_KEY (fallbacks: MOONSHOT_API_KEY, "
                "ANYFAST_API_KEY) or pass api_key=... ; "
                "`python -m kimi_jupyter.simulator` serves an offline stand-in"
            )
        return self.api_key.reveal()

    @property
    def is_hosted(self) -> bool:
        """True for Moonshot's and Anyfast's platforms; False for self-hosted vLLM/SGLang."""
        return any(host in self.base_url for host in _HOSTED)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)
