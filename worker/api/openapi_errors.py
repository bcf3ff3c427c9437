"""Error answers in /openapi.json, so a generated client (and schemathesis) knows them all.

FastAPI documents only a route's success and its list-shaped 422. The seed's other answers
(400/401/403/404/409/413/429/503, all `{"detail": "..."}`) come from a few rules on the
operation (a bearer token, a path id, a body) plus a table of what particular routes do. It
runs over the finished schema, once, so routers need no `responses=` of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

ERROR_BODY = "ErrorBody"
ERROR_SCHEMA = {
    "title": ERROR_BODY,
    "type": "object",
    "properties": {"detail": {"type": "string", "title": "Detail"}},
    "required": ["detail"],
    "description": 'The seed\'s error format: {"detail": "what went wrong"}',
}
REF = {"$ref": f"#/components/schemas/{ERROR_BODY}"}
VALIDATION_REF = {"$ref": "#/components/schemas/HTTPValidationError"}

DESCRIPTIONS = {
    400: "Bad Request: the request cannot be carried out in the object's current state",
    401: "Unauthorized: missing, invalid or expired token",
    403: "Forbidden: not yours, or not allowed on this server",
    404: "Not Found",
    409: "Conflict",
    413: "Content Too Large: the request body is over the server's limit (1 MB by default)",
    422: "Validation Error: a list of field errors, or one message about the request",
    429: "Too Many Requests: rate limit exceeded; see Retry-After",
    503: "Service Unavailable: the task broker cannot be reached",
}

# What particular operations answer beyond the general rules in `_statuses`.
SPECIFIC: dict[tuple[str, str], set[int]] = {
    ("post", "/api/v1/auth/register"): {403, 409, 429},
    ("post", "/api/v1/auth/login"): {401, 429},
    ("post", "/api/v1/auth/refresh"): {401},
    ("post", "/api/v1/auth/logout"): {401},
    ("post", "/api/v1/jobs"): {400},
    ("delete", "/api/v1/jobs/{job_id}"): {400},
    ("post", "/api/v1/jobs/{job_id}/start"): {400, 429, 503},
    ("post", "/api/v1/jobs/{job_id}/cancel"): {400},
    ("post", "/api/v1/jobs/{job_id}/retry"): {400, 429, 503},
    ("post", "/api/v1/validation/job/{job_id}/"): {503},
    ("get", "/api/v1/jobs/{job_id}/export"): {400},
    ("post", "/api/v1/jobs/{job_id}/export"): {400, 409},
    ("get", "/api/v1/engines/health"): {429},
    ("get", "/api/v1/health"): {503},
}
# Answers with a body of their own rather than the error format: /health's 503 is its report.
SAME_AS_SUCCESS = {("get", "/api/v1/health", 503)}


def _statuses(method: str, path: str, operation: dict[str, Any]) -> set[int]:
    codes = set(SPECIFIC.get((method, path), ()))
    if operation.get("security"):
        codes.add(401)
    if "{job_id}" in path or "{image_id}" in path:
        codes |= {403, 404}
    if "requestBody" in operation:
        codes |= {413, 422}
    if operation.get("parameters"):
        codes.add(422)
    return codes


def _success_content(operation: dict[str, Any]) -> dict[str, Any]:
    for code, response in operation["responses"].items():
        if code.startswith("2"):
            return response.get("content", {})
    return {}


def document(schema: dict[str, Any]) -> dict[str, Any]:
    """Add every operation's error answers to `schema` (in place) and return it."""
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas[ERROR_BODY] = ERROR_SCHEMA
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for code in sorted(_statuses(method, path, operation)):
                if (method, path, code) in SAME_AS_SUCCESS:
                    content = _success_content(operation)
                elif code == 422:
                    # FastAPI's own 422 is a list; ours about one request (a bad export option,
                    # an absolute path wanted) is a string, as the seed's other errors.
                    body = ({"anyOf": [VALIDATION_REF, REF]} if "HTTPValidationError" in schemas
                            else REF)
                    content = {"application/json": {"schema": body}}
                else:
                    content = {"application/json": {"schema": REF}}
                responses[str(code)] = {"description": DESCRIPTIONS[code], "content": content}
    return schema


def install(app: FastAPI) -> None:
    """Make `app.openapi()` return the schema with the error answers added."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
