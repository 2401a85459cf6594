"""Wire shapes per flavour: SSE chunks for `stream: true`, one JSON body otherwise.

Flavours (KIMI_WIRE §4, §7):
    moonshot  live Moonshot: usage inside `choices[0]` of the finish chunk.
    docs      the K-CHAT/Anyfast documentation: usage at the top level of the finish chunk.
    vllm      `reasoning` instead of `reasoning_content`, null fields left out, usage only in
              the trailing `choices: []` chunk.
    sglang    explicit nulls in every delta, `logprobs`/`matched_stop`, `"usage": null`.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

from .directives import Directives
from .plan import Plan, ToolCall, Usage
from .validate import Request

DONE = b"data: [DONE]\n\n"
_DEFAULT_USAGE_PLACE = {"moonshot": "choice", "docs": "docs", "vllm": None, "sglang": None}


def dumps(value: Any) -> bytes:
    """Encode compact JSON with raw UTF-8, as Kimi does (no \\u escapes)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _new_id(flavour: str) -> str:
    if flavour == "docs":
        return "cmpl-" + secrets.token_hex(16)
    if flavour == "vllm":
        return "chatcmpl-" + secrets.token_hex(8)
    if flavour == "sglang":
        return secrets.token_hex(16)
    return "chatcmpl-" + secrets.token_hex(12)


class Shaper:
    """Turns one `Plan` into the chunks or the body of one response, in one flavour."""

    def __init__(self, req: Request, wanted: Directives, plan: Plan) -> None:
        self.flavour = req.flavour
        self.plan = plan
        self.thinking = req.thinking
        self.include_usage = req.include_usage
        self.usage_place = wanted.usage or _DEFAULT_USAGE_PLACE[req.flavour]
        self.tool_index = not wanted.omit_tool_index
        self.head: dict[str, Any] = {"id": _new_id(req.flavour), "object": "chat.completion.chunk"}
        if req.flavour == "vllm":  # vLLM's field order, as recorded (KIMI_WIRE §7.4)
            self.head = {"id": self.head["id"], "created": int(time.time()), "model": req.model}
            self.head["object"] = "chat.completion.chunk"
        else:
            self.head.update(created=int(time.time()), model=req.model)

    def iter_events(self) -> Iterator[bytes]:
        """Yield every SSE event of the stream, `data: [DONE]` last."""
        plan = self.plan
        yield self._event(self._delta(role="assistant", content=""))
        yield from self._fragments("reasoning_content", plan.reasoning)
        cut_in_reasoning = plan.finish_reason == "length" and not plan.content
        if self.thinking and self.flavour in ("moonshot", "docs") and not cut_in_reasoning:
            # Live Moonshot closes the reasoning phase with one empty fragment (§4.2).
            yield self._event(self._delta(reasoning_content=""))
        yield from self._fragments("content", plan.content)
        for i, call in enumerate(plan.tool_calls):
            yield self._event(self._delta(tool_calls=[self._call_start(i, call)]))
            for piece in call.fragments:
                yield self._event(self._delta(tool_calls=[self._call_piece(i, piece)]))
        yield self._finish_event()
        if self.include_usage:
            yield b"data: " + dumps({**self.head, "choices": [], "usage": self.usage()}) + b"\n\n"
        yield DONE

    def completion(self) -> dict[str, Any]:
        """Return the non-streaming `chat.completion` body."""
        plan = self.plan
        message: dict[str, Any] = {"role": "assistant", "content": "".join(plan.content)}
        reasoning = "".join(plan.reasoning)
        if self.flavour == "sglang":
            message["reasoning_content"] = reasoning if self.thinking else None
            message["tool_calls"] = None
        elif self.thinking:
            message[self._reasoning_key()] = reasoning
        if plan.tool_calls:
            message["tool_calls"] = [
                {"index": i, **self._call_full(c)} for i, c in enumerate(plan.tool_calls)
            ]
        choice: dict[str, Any] = {"index": 0, "message": message}
        if self.flavour == "sglang":
            choice["logprobs"] = None
        choice["finish_reason"] = plan.finish_reason
        if self.flavour == "sglang":
            choice["matched_stop"] = None
        head = {**self.head, "object": "chat.completion"}
        return {**head, "choices": [choice], "usage": self.usage()}

    def usage(self) -> dict[str, Any]:
        """Return the usage object with this flavour's field names."""
        u: Usage = self.plan.usage
        total = u.prompt + u.completion
        if self.flavour in ("vllm", "sglang"):
            usage: dict[str, Any] = {
                "prompt_tokens": u.prompt,
                "total_tokens": total,
                "completion_tokens": u.completion,
            }
            details = {"cached_tokens": u.cached} if u.cached else None
            if self.flavour == "sglang":
                return {**usage, "prompt_tokens_details": details, "reasoning_tokens": u.reasoning}
            return {**usage, "prompt_tokens_details": details} if details else usage
        usage = {
            "prompt_tokens": u.prompt,
            "completion_tokens": u.completion,
            "total_tokens": total,
        }
        # Live responses leave both cached spellings out when nothing was cached (§3).
        if u.cached:
            usage["cached_tokens"] = u.cached
        usage["completion_tokens_details"] = {"reasoning_tokens": u.reasoning}
        if u.cached:
            usage["prompt_tokens_details"] = {"cached_tokens": u.cached}
        return usage

    def _reasoning_key(self) -> str:
        return "reasoning" if self.flavour == "vllm" else "reasoning_content"

    def _delta(self, **fields: Any) -> dict[str, Any]:
        if "reasoning_content" in fields and self.flavour == "vllm":
            fields = {"reasoning": fields["reasoning_content"]}
        if self.flavour == "sglang":
            return {
                "role": None,
                "content": None,
                "reasoning_content": None,
                "tool_calls": None,
                **fields,
            }
        return fields

    def _choice(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        if self.flavour == "sglang":
            return {
                "index": 0,
                "delta": delta,
                "logprobs": None,
                "finish_reason": finish,
                "matched_stop": None,
            }
        if self.flavour == "vllm" and finish is None:
            return {"index": 0, "delta": delta}
        return {"index": 0, "delta": delta, "finish_reason": finish}

    def _event(self, delta: dict[str, Any]) -> bytes:
        chunk = {**self.head, "choices": [self._choice(delta)]}
        if self.flavour == "sglang":
            chunk["usage"] = None
        return b"data: " + dumps(chunk) + b"\n\n"

    def _fragments(self, key: str, fragments: list[str]) -> Iterator[bytes]:
        # Memoised: long streams repeat a few filler fragments, so each is encoded once.
        memo: dict[str, bytes] = {}
        for piece in fragments:
            event = memo.get(piece)
            if event is None:
                event = memo[piece] = self._event(self._delta(**{key: piece}))
            yield event

    def _finish_event(self) -> bytes:
        delta = self._delta() if self.flavour == "sglang" else {}
        choice = self._choice(delta, self.plan.finish_reason)
        chunk: dict[str, Any] = {**self.head, "choices": [choice]}
        if self.usage_place in ("choice", "both"):
            choice["usage"] = self.usage()
        if self.usage_place in ("docs", "both"):
            chunk["usage"] = self.usage()
        elif self.flavour == "sglang":
            chunk["usage"] = None
        return b"data: " + dumps(chunk) + b"\n\n"

    def _call_full(self, call: ToolCall) -> dict[str, Any]:
        function = {"name": call.name, "arguments": call.arguments}
        return {"id": call.id, "type": call.type, "function": function}

    def _call_start(self, i: int, call: ToolCall) -> dict[str, Any]:
        if self.flavour == "vllm":
            start = {"index": i, "id": call.id, "type": call.type, "function": {"name": call.name}}
        elif self.flavour == "sglang":
            function = {"name": call.name, "arguments": ""}
            start = {"id": call.id, "index": i, "type": call.type, "function": function}
        else:
            function = {"name": call.name, "arguments": ""}
            start = {"index": i, "id": call.id, "type": call.type, "function": function}
        return self._indexed(start)

    def _call_piece(self, i: int, piece: str) -> dict[str, Any]:
        if self.flavour == "sglang":
            function = {"name": None, "arguments": piece}
            return self._indexed({"id": None, "index": i, "type": "function", "function": function})
        return self._indexed({"index": i, "function": {"arguments": piece}})

    def _indexed(self, delta: dict[str, Any]) -> dict[str, Any]:
        if not self.tool_index:  # the K-CHAT schema does not declare `index` (§4.2)
            del delta["index"]
        return delta
