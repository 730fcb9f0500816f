"""Error answers of the emulated API, with the exact bodies the tap may see."""

from __future__ import annotations

from typing import Any

# Rails' `authenticate_or_request_with_http_token` answers 401 with this plain-text body.
ACCESS_DENIED_BODY = "HTTP Token: Access denied."
PERMISSION_DENIED = "You do not have permission to perform the requested action"
RETENTION_EXCEEDED = (
    "The date range you have requested is outside of your data retention period. "
    "Please revise your date range."
)
TOO_MANY_REQUESTS = "The User or Agency has sent too many requests in a given amount of time"
NOT_FOUND = "Not Found"


class ApiError(Exception):
    """An error answer: HTTP status plus a JSON body `{"error": message}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"error": self.message}


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def not_found() -> ApiError:
    return ApiError(404, NOT_FOUND)


def forbidden() -> ApiError:
    return ApiError(403, PERMISSION_DENIED)
