"""Prompt-token estimates and the simulated prompt cache.

The estimator is deliberately simple and deterministic, so tests can predict it:

* text: ceil(UTF-8 bytes / 4) for each string (text parts, tool-call names and arguments,
  tool declarations as compact JSON, and historical `reasoning_content` only when
  `thinking.keep == "all"`, since Kimi ignores it otherwise);
* image of known size: ceil(w / 28) * ceil(h / 28) patches, at most 16,384;
  image of unknown size (`ms://` file ids, unreadable headers): 1,024;
* video: 256 + ceil(bytes / 4,096), at most 65,536;
* 4 tokens of overhead per message and 3 for priming the reply.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from typing import Any

from .media import Part

CONTEXT_WINDOW = 262_144
_MAX_IMAGE = 16_384
_MAX_VIDEO = 65_536
_CACHE_LIMIT = 100_000


def text_tokens(text: str) -> int:
    """Return ceil(UTF-8 bytes / 4), the estimator's cost of a string."""
    return math.ceil(len(text.encode()) / 4)


def part_tokens(part: Part) -> int:
    """Return the estimated cost of one content part."""
    if part.kind == "text":
        return text_tokens(part.text)
    if part.kind == "video":
        return min(_MAX_VIDEO, 256 + math.ceil(part.nbytes / 4096))
    if part.size is None:
        return 1024
    width, height = part.size
    return min(_MAX_IMAGE, math.ceil(width / 28) * math.ceil(height / 28))


def message_tokens(message: dict[str, Any], parts: list[Part], keep_all: bool) -> int:
    """Return the estimated cost of one message, overhead included."""
    total = 4 + sum(part_tokens(p) for p in parts)
    for call in message.get("tool_calls") or []:
        total += text_tokens(call["function"]["name"] + call["function"]["arguments"])
    reasoning = message.get("reasoning_content")
    if keep_all and isinstance(reasoning, str):
        total += text_tokens(reasoning)
    return total


def tools_tokens(tools: list[Any]) -> int:
    """Return the estimated cost of the tool declarations."""
    return text_tokens(json.dumps(tools, separators=(",", ":"))) if tools else 0


class PromptCache:
    """Remembers message prefixes seen before; a hit costs nothing but shows in `cached_tokens`.

    A request's cached tokens are the estimated tokens of the longest prefix of its messages
    that is identical to a prefix of an earlier request's messages.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._prefixes: set[bytes] = set()

    def lookup_and_store(self, messages: list[Any], costs: list[int]) -> int:
        """Return the cached tokens of `messages`, then remember all their prefixes."""
        digests = list(_prefix_digests(messages))
        with self._lock:
            hits = 0
            for digest in digests:
                if digest not in self._prefixes:
                    break
                hits += 1
            if len(self._prefixes) > _CACHE_LIMIT:
                self._prefixes.clear()  # bound memory in long-lived simulators
            self._prefixes.update(digests)
        return sum(costs[:hits])


def _prefix_digests(messages: list[Any]) -> list[bytes]:
    running = hashlib.sha256()
    digests = []
    for message in messages:
        running.update(json.dumps(message, sort_keys=True, separators=(",", ":")).encode())
        running.update(b"\x00")
        digests.append(running.copy().digest())
    return digests
