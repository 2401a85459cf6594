"""Settings: environment and explicit values folded into one frozen object.

Explicit values beat the environment. The API key is held in a `Secret`, which never shows
its value in `repr`, `str`, f-strings, `vars`, logs or pickles; only `Secret.reveal()` does,
and only the client calls it, to build the Authorization header. The limits of one request
(`timeout`, `idle_timeout`, `max_retry_wait`) come from KIMI_TIMEOUT, KIMI_IDLE_TIMEOUT and
KIMI_MAX_RETRY_WAIT.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from ._redact import redact
from .errors import ConfigurationError

DEFAULT_BASE_URL = "https://www.anyfast.ai/v1"
DEFAULT_MODEL = "kimi-k2.6"
CONTEXT_WINDOW = 262_144
KEY_VARIABLES = ("KIMI_API_KEY", "MOONSHOT_API_KEY", "ANYFAST_API_KEY")
_HOSTED = ("anyfast.ai", "moonshot.ai", "moonshot.cn", "kimi.ai", "kimi.com")


class Secret:
    """An API key that refuses to be shown; `reveal()` is the only way to read it.

    Every rendering is masked (`repr`, `str`, f-strings, `vars`: there is no `__dict__`), it
    cannot be pickled, and it is kept XOR-ed with a random pad, so a debugger's or a variable
    inspector's view of its slots shows noise. Surrounding whitespace (a pasted newline) is
    dropped; a key with a space, a control or a non-ASCII character inside is refused by
    `reveal()` in one line that names the character and where the key came from, never the key.
    """

    __slots__ = ("__weakref__", "_masked", "_pad", "_source")

    def __init__(self, value: str, source: str = "api_key") -> None:
        raw = value.strip().encode("utf-8", "surrogatepass")
        self._pad = os.urandom(len(raw))
        self._masked = bytes(a ^ b for a, b in zip(raw, self._pad, strict=True))
        self._source = source

    def reveal(self) -> str:
        """The key, for the Authorization header; `ConfigurationError` if it cannot be one."""
        value = self._plain()
        problem = _key_problem(value)
        if problem:
            raise ConfigurationError(
                f"the API key in {self._source} {problem}: a key is one word of plain ASCII, "
                "so copy it again without that character"
            )
        return value

    def redact(self, text: str) -> str:
        """`text` with this key masked in every form it may take (see `_redact`)."""
        return redact(text, self._plain())

    def __bool__(self) -> bool:
        return bool(self._masked)

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and hmac.compare_digest(other._raw(), self._raw())

    def __hash__(self) -> int:
        return hash(hashlib.sha256(self._raw()).digest())

    def __reduce__(self) -> NoReturn:
        raise TypeError("an API key cannot be pickled")

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: object) -> Secret:
        return self

    def _raw(self) -> bytes:
        return bytes(a ^ b for a, b in zip(self._masked, self._pad, strict=True))

    def _plain(self) -> str:
        return self._raw().decode("utf-8", "surrogatepass")


def _key_problem(value: str) -> str | None:
    """What makes `value` unusable in a header, without showing any of it."""
    for position, char in enumerate(value, start=1):
        if "!" <= char <= "~":
            continue
        where = f"at character {position} of {len(value)}"
        code = ord(char)
        if char == " ":
            return f"has a space {where}"
        if code < 0x20 or 0x7F <= code < 0xA0:
            return f"has a control character (U+{code:04X}) {where}"
        name = unicodedata.name(char, "non-ASCII character").lower()
        return f"has a {name} (U+{code:04X}) {where}"
    return None


@dataclass(frozen=True)
class Settings:
    """Everything a request needs to know besides the conversation."""

    api_key: Secret | None = field(default=None, repr=False)
    base_url: str = DEFAULT_BASE_URL
    model: str = DEFAULT_MODEL
    connect_timeout: float = 10.0
    read_timeout: float = 120.0  # one read of the socket
    timeout: float = 1800.0  # one request, first attempt to last byte: KIMI_TIMEOUT
    idle_timeout: float = 120.0  # between two events of a stream: KIMI_IDLE_TIMEOUT
    max_attempts: int = 4
    max_retry_wait: float = 60.0  # all the waits between attempts: KIMI_MAX_RETRY_WAIT
    context_window: int = CONTEXT_WINDOW
    output_reserve: int = 32_768
    allow_web_search: bool = False  # for gateways that pass Kimi's $web_search through

    def __post_init__(self) -> None:
        key: object = self.api_key
        if isinstance(key, str):  # Settings(api_key="sk-...") is allowed too
            key = Secret(key)
        object.__setattr__(self, "api_key", key or None)  # blank after stripping: no key
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        if not self.base_url.startswith(("http://", "https://")):
            raise ConfigurationError(
                f"KIMI_BASE_URL must start with http:// or https://, got {self.base_url!r}"
            )
        for name in _SECONDS:
            if not getattr(self, name) > 0:  # NaN too
                raise ConfigurationError(f"{name} must be a positive number of seconds")
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
        found = next((name for name in KEY_VARIABLES if env.get(name, "").strip()), None)
        if found:
            values["api_key"] = Secret(env[found], source=found)
        for name, variable in _SECONDS.items():
            if variable and env.get(variable, "").strip():
                values[name] = _seconds(variable, env[variable])
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


# Every duration setting, and the environment variable that sets it (if any).
_SECONDS = {
    "connect_timeout": None,
    "read_timeout": None,
    "timeout": "KIMI_TIMEOUT",
    "idle_timeout": "KIMI_IDLE_TIMEOUT",
    "max_retry_wait": "KIMI_MAX_RETRY_WAIT",
}


def _seconds(variable: str, text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise ConfigurationError(f"{variable} must be a positive number of seconds, not {text!r}")
    return value
