"""/openapi.json names every operation's error answers with the seed's error body (issue 16),
so a client generated from it knows them."""

from __future__ import annotations

import httpx

ERROR = {"$ref": "#/components/schemas/ErrorBody"}


def operations(schema: dict):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_error_answers_are_documented(server):
    schema = httpx.get(f"{server.api_url}/openapi.json").json()
    assert schema["components"]["schemas"]["ErrorBody"]["required"] == ["detail"]
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        where = f"{method.upper()} {path}"
        if operation.get("security"):
            assert "401" in responses, where
        if "{job_id}" in path or "{image_id}" in path:
            assert {"403", "404"} <= responses.keys(), where
        if "requestBody" in operation:
            assert {"413", "422"} <= responses.keys(), where
        for code, response in responses.items():
            if code[0] == "4" and code != "422":
                assert response["content"]["application/json"]["schema"] == ERROR, where
        if "422" in responses:  # FastAPI's list, or one message as a string
            body = responses["422"]["content"]["application/json"]["schema"]
            assert ERROR in body["anyOf"], where

    def codes(method: str, path: str) -> set[str]:
        return set(schema["paths"][f"/api/v1{path}"][method]["responses"])

    assert {"400", "429", "503"} <= codes("post", "/jobs/{job_id}/start")
    assert {"401", "429"} <= codes("post", "/auth/login")
    assert {"409", "429"} <= codes("post", "/auth/register")
    assert {"400", "409"} <= codes("post", "/jobs/{job_id}/export")
    assert "503" in codes("get", "/health")


def test_a_405_names_every_method_of_the_path(user):
    r = user.client.request("PUT", "/jobs/1")
    assert r.status_code == 405
    assert set(r.headers["allow"].split(", ")) >= {"GET", "DELETE"}
