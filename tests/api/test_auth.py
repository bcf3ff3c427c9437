"""Accounts and tokens, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt


def test_register_login_me_refresh(anon, server):
    email, password = "Researcher@Example.com", "a long enough password"
    created = anon.post("/auth/register", json={"email": email, "password": password})
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"id", "email", "created_at"}
    assert body["email"] == email.lower()

    again = anon.post("/auth/register", json={"email": email.lower(), "password": password})
    assert again.status_code == 409
    assert again.json() == {"detail": "Email already registered"}

    login = anon.post("/auth/login", json={"email": email, "password": password})
    assert login.status_code == 200
    tokens = login.json()
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 3600
    assert tokens["access_token"] and tokens["refresh_token"]

    me = anon.get("/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200 and me.json()["id"] == body["id"]

    refreshed = anon.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    new_access = refreshed.json()["access_token"]
    assert anon.get("/auth/me", headers={"Authorization": f"Bearer {new_access}"}).json()[
        "email"] == email.lower()

    # An access token is not a refresh token, and the other way round.
    wrong = anon.post("/auth/refresh", json={"refresh_token": tokens["access_token"]})
    assert wrong.status_code == 401
    bad = anon.get("/auth/me", headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
    assert bad.status_code == 401


def test_wrong_password_and_unknown_email(anon, user):
    for email, password in ((user.email, "not the password"), ("nobody@example.com", "x" * 9)):
        r = anon.post("/auth/login", json={"email": email, "password": password})
        assert r.status_code == 401
        assert r.json() == {"detail": "Incorrect email or password"}
        assert r.headers["www-authenticate"] == "Bearer"


def test_missing_bad_and_expired_tokens(anon, server, user):
    missing = anon.get("/jobs")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert missing.json() == {"detail": "Not authenticated"}

    garbage = anon.get("/jobs", headers={"Authorization": "Bearer not-a-token"})
    assert garbage.status_code == 401
    assert garbage.headers["www-authenticate"] == "Bearer"

    secret = server.env["PIXCRAWLER_SECRET_KEY"]
    past = datetime.now(UTC) - timedelta(minutes=5)
    expired = jwt.encode({"sub": str(user.user_id), "type": "access", "iat": past,
                          "exp": past + timedelta(minutes=1)}, secret, algorithm="HS256")
    r = anon.get("/jobs", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401
    assert r.json() == {"detail": "Token has expired"}

    forged = jwt.encode({"sub": str(user.user_id), "type": "access",
                         "exp": datetime.now(UTC) + timedelta(minutes=5)},
                        "a-different-secret-of-enough-length-123", algorithm="HS256")
    assert anon.get("/jobs", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_register_validation_errors(anon):
    r = anon.post("/auth/register", json={"email": "not-an-email", "password": "short"})
    assert r.status_code == 422
    errors = r.json()["detail"]
    assert {tuple(e["loc"]) for e in errors} == {("body", "email"), ("body", "password")}
    assert all({"loc", "msg", "type"} <= set(e) for e in errors)


def test_login_attempts_are_rate_limited(anon, user):
    statuses = [anon.post("/auth/login", json={"email": user.email, "password": "wrong-guess"})
                for _ in range(11)]
    assert [r.status_code for r in statuses[:9]] == [401] * 9  # one login already spent
    limited = statuses[-1]
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert "Rate limit exceeded" in limited.json()["detail"]
    # Another address-and-email pair is not affected.
    other = anon.post("/auth/login", json={"email": "other@example.com", "password": "whatever1"})
    assert other.status_code == 401
