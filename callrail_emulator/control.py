"""The `/_emulator/` control surface: drive a separately started emulator over HTTP (no auth).

POST bodies are JSON objects whose keys are the arguments of the Emulator method of the same
name; GET /_emulator/state, /_emulator/requests and /_emulator/requests/count read state.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from callrail_emulator.wire import Request, Response, json_response

if TYPE_CHECKING:
    from callrail_emulator.emulator import Emulator


def _when(value: Any) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _retry_after(value: Any) -> int | datetime | None:
    return _when(value) if isinstance(value, str) else value


_POST: dict[str, Callable[[Emulator, dict[str, Any]], Any]] = {
    "edit_calls": lambda e, b: {
        "ids": e.edit_calls(b["account_id"], int(b.get("n", 1)), **b.get("changes", {}))
    },
    "add_calls": lambda e, b: {
        "ids": e.add_calls(b["account_id"], int(b.get("n", 1)), _when(b.get("start")))
    },
    "delete": lambda e, b: e.delete(b["stream"], b["account_id"], b["record_id"]),
    "disable": lambda e, b: e.disable(b["stream"], b["account_id"], b["record_id"]),
    "mark_spam": lambda e, b: e.mark_spam(b["account_id"], b["call_id"]),
    "add_bad_record": lambda e, b: {
        "id": e.add_bad_record(b["stream"], b["account_id"], **b.get("fields", {}))
    },
    "fault_every": lambda e, b: e.fault_every(
        int(b["n"]), tuple(b.get("kinds", ("500", "503", "drop", "truncated_json")))
    ),
    "rate_limit": lambda e, b: e.rate_limit(int(b["count"]), _retry_after(b.get("retry_after"))),
    "persistent_fault": lambda e, b: e.persistent_fault(
        b.get("status", 500), b.get("path_contains"), company_id=b.get("company_id"),
        message=b.get("message"),
    ),
    "forbid": lambda e, b: e.forbid(b["account_id"], b["stream"]),
    "hostile": lambda e, b: e.hostile(
        b["mode"], b.get("path_contains"), pages=b.get("pages", ()),
        after_page=int(b.get("after_page", 1)), position=int(b.get("position", 0)),
    ),
    "clear_faults": lambda e, b: e.clear_faults(),
    "reset_requests": lambda e, b: e.reset_requests(),
    "set_now": lambda e, b: e.set_now(_when(b.get("now"))),
    "set_paging": lambda e, b: e.set_paging(
        b.get("page_size"), total_pages=bool(b.get("total_pages", True)),
        total_records=bool(b.get("total_records", True)),
    ),
    "add_account": lambda e, b: {
        "id": e.add_account(b.get("account_id"), b.get("numeric_id"), b.get("name"))
    },
    "put": lambda e, b: e.put(b["stream"], b["account_id"], b["records"]),
}


def handle_control(emu: Emulator, req: Request) -> Response:
    name = req.path.removeprefix("/_emulator/").strip("/")
    try:
        if req.method == "GET":
            return _get(emu, req, name)
        action = _POST.get(name)
        if req.method != "POST" or action is None:
            return json_response(404, {"error": f"no control action {req.method} {name}"})
        body = json.loads(req.body or b"{}")
        if not isinstance(body, dict):
            raise ValueError("body must be a JSON object")
        result = action(emu, body)
        return json_response(200, result if result is not None else {"ok": True})
    except (KeyError, ValueError, TypeError) as exc:
        return json_response(400, {"error": f"{type(exc).__name__}: {exc}"})


def _get(emu: Emulator, req: Request, name: str) -> Response:
    if name == "state":
        return json_response(200, emu.state())
    if name == "requests":
        with emu._lock:
            return json_response(200, {"requests": list(emu.requests)})
    if name == "requests/count":
        status = req.param("status")
        count = emu.request_count(req.param("path_contains"), int(status) if status else None)
        return json_response(200, {"count": count})
    return json_response(404, {"error": f"no control endpoint GET {name}"})
