"""A Streamlit session without a browser: the browser's protocol on /_stcore/stream.

BackMsg and ForwardMsg protobufs over a websocket: ask for a run of a page (with widget
values changed, or of one fragment) and read every message of it. The load benchmark's
users (pages/_bench_load.py) are made of these, and the start-up (pages/_startup.py)
uses one to run the pages once before the server reports itself ready.
"""

from __future__ import annotations

import asyncio
import re
import time
import urllib.request
from dataclasses import dataclass

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import connect

from pages._served_sites import SITES_PATH

TIMEOUT_S = 300.0
_EARLY = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_EARLY_FOR_RERUN")
_WIDGETS = ("selectbox", "number_input", "multiselect", "text_input")
_SITES_URL = re.compile(re.escape(SITES_PATH) + r"/[0-9a-f]+\.json")


class ScriptFailed(RuntimeError):
    """The page showed an exception, or what the action should have shown is not there."""


@dataclass(frozen=True)
class Widget:
    id: str
    fragment_id: str
    options: tuple[str, ...]


@dataclass
class Run:
    """One script run as the client received it."""

    seconds: float
    headings: list[str]
    bytes_received: int


class Client:
    """One browser tab's worth of protocol: a session on the server, its widgets by label."""

    def __init__(self, base: str, page: str, query: str) -> None:
        self.url = base.replace("http://", "ws://", 1).rstrip("/") + "/_stcore/stream"
        self.page, self.query = page, query
        self.base = base.rstrip("/")
        self.widgets: dict[str, Widget] = {}
        self.sites_url: str | None = None  # what the map's frame fetches once
        self._socket = None

    async def open(self) -> None:
        self._socket = await connect(
            self.url, subprotocols=["streamlit"], max_size=None, open_timeout=TIMEOUT_S
        )

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()

    async def rerun(self, states: tuple[WidgetState, ...] = (), fragment_id: str = "") -> Run:
        """Ask for a run (with `states` changed, of `fragment_id` alone if given) and read it."""
        message = BackMsg()
        client = message.rerun_script
        client.query_string, client.page_name, client.fragment_id = (
            self.query,
            self.page,
            fragment_id,
        )
        client.widget_states.widgets.extend(states)
        start = time.perf_counter()
        await self._socket.send(message.SerializeToString())
        headings, received = await self._until_finished()
        return Run(time.perf_counter() - start, headings, received)

    async def _until_finished(self) -> tuple[list[str], int]:
        headings, received, errors = [], 0, []
        while True:
            raw = await asyncio.wait_for(self._socket.recv(), TIMEOUT_S)
            received += len(raw)
            message = ForwardMsg()
            message.ParseFromString(raw)
            kind = message.WhichOneof("type")
            if kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                element = message.delta.new_element
                which = element.WhichOneof("type")
                if which in _WIDGETS:
                    widget = getattr(element, which)
                    options = tuple(getattr(widget, "options", ()))
                    self.widgets[widget.label] = Widget(
                        widget.id, message.delta.fragment_id, options
                    )
                elif which == "heading":
                    headings.append(element.heading.body)
                elif which == "component_instance":
                    found = _SITES_URL.search(element.component_instance.json_args)
                    self.sites_url = found.group(0) if found else self.sites_url
                elif which == "exception":
                    errors.append(f"{element.exception.type}: {element.exception.message}")
            elif kind == "page_info_changed":
                self.query = message.page_info_changed.query_string
            elif kind == "script_finished" and message.script_finished != _EARLY:
                if errors:
                    raise ScriptFailed("; ".join(errors))
                return headings, received

    async def fetch_sites(self) -> int:
        """Fetch the map's sites as its frame does, once per page (gzipped); the bytes read."""
        if self.sites_url is None:
            raise ScriptFailed("the explorer's map named no sites to fetch")
        request = urllib.request.Request(  # noqa: S310 - the app's own http:// base
            f"{self.base}/{self.sites_url}", headers={"Accept-Encoding": "gzip"}
        )

        def read() -> int:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310
                return len(response.read())

        return await asyncio.to_thread(read)
