"""The chat panel's comm target, registered when the extension loads; the panel's server
(and the HTTP client behind it) is imported only when a panel actually connects."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kimi_jupyter.chat import Chat
    from kimi_jupyter.conversation import Part

TARGET = "kimi_jupyter.chat"


def register(
    shell: Any, chat_factory: Callable[[], Chat], gather: Callable[[str], list[Part]]
) -> bool:
    """Register the comm target in this kernel (no-op outside one); True when registered."""
    kernel = getattr(shell, "kernel", None)
    manager = getattr(kernel, "comm_manager", None)
    if manager is None:
        return False

    def open_comm(comm: Any, _open_msg: dict[str, Any]) -> None:
        from kimi_jupyter.panel import PanelServer

        server = PanelServer(lambda data: comm.send(dict(data)), chat_factory(), gather,
                             namespace=shell.user_ns)  # fmt: skip
        comm.on_msg(lambda msg: server.handle(msg["content"]["data"]))
        comm.on_close(lambda _msg: server.close())

    manager.register_target(TARGET, open_comm)
    return True
