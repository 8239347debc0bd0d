"""Login, logout, expiry, lockout and the caller's profile."""

from __future__ import annotations

from sqlalchemy import select

from techapi.auth.models import AccessToken, LoginFailure
from techapi.worker.runner import Worker
from tests.conftest import PASSWORD


def login(client, username, password=PASSWORD, ip="10.0.0.1"):
    return client.post("/v1/auth/token", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def test_login_returns_a_bearer_token_that_opens_the_api(client, auth, world):
    auth.user("tech1", "technician", technician_id=world.demo_technician_id)
    response = login(client, "tech1")
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 12 * 3600
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.get_json() == {"username": "tech1", "role": "technician", "technicianId": world.demo_technician_id,
                             "storeIds": [], "timezone": "UTC"}


def test_tokens_are_stored_only_as_hashes(client, auth, deps):
    auth.user("sup", "supervisor", stores=("s1",))
    raw = auth.token("sup")
    with deps.db.session() as session:
        stored = session.scalars(select(AccessToken.token_hash)).all()
    assert stored and raw not in stored
    assert all(len(h) == 64 for h in stored)


def test_wrong_password_and_unknown_user_get_the_same_401(client, auth):
    auth.user("tech1", "technician", technician_id="T1")
    wrong = login(client, "tech1", "nope-nope")
    unknown = login(client, "ghost", "nope-nope")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json()["message"] == unknown.get_json()["message"] == "Invalid username or password"
    assert "WWW-Authenticate" in wrong.headers


def test_logout_revokes_the_token(client, auth):
    auth.user("tech1", "technician", technician_id="T1")
    headers = auth.headers("tech1")
    assert client.post("/v1/auth/logout", headers=headers).status_code == 204
    again = client.get("/v1/me", headers=headers)
    assert again.status_code == 401
    assert again.get_json()["message"] == "Invalid or revoked bearer token"


def test_logout_of_one_token_leaves_other_sessions_alive(client, auth):
    auth.user("tech1", "technician", technician_id="T1")
    phone, tablet = auth.headers("tech1"), auth.headers("tech1")
    client.post("/v1/auth/logout", headers=phone)
    assert client.get("/v1/me", headers=tablet).status_code == 200


def test_tokens_expire(client, auth, clock):
    auth.user("tech1", "technician", technician_id="T1")
    headers = auth.headers("tech1")
    clock.advance(hours=12, seconds=1)
    response = client.get("/v1/me", headers=headers)
    assert response.status_code == 401
    assert "expired" in response.get_json()["message"]


def test_five_failures_lock_the_account_even_for_the_right_password(client, auth, clock):
    auth.user("tech1", "technician", technician_id="T1")
    for i in range(5):
        assert login(client, "tech1", "wrong", ip=f"10.0.0.{i}").status_code == 401
    locked = login(client, "tech1", ip="10.9.9.9")
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert "Too many failed logins for this account" in locked.get_json()["message"]
    clock.advance(minutes=15, seconds=1)
    assert login(client, "tech1").status_code == 200


def test_one_client_guessing_many_usernames_is_limited(client, auth):
    for i in range(20):
        assert login(client, f"user{i}", "guess", ip="10.6.6.6").status_code == 401
    blocked = login(client, "someone-else", "guess", ip="10.6.6.6")
    assert blocked.status_code == 429
    assert "this client" in blocked.get_json()["message"]
    assert login(client, "someone-else", "guess", ip="10.7.7.7").status_code == 401


def test_a_successful_login_clears_earlier_failures(client, auth):
    auth.user("tech1", "technician", technician_id="T1")
    for _ in range(4):
        login(client, "tech1", "wrong")
    assert login(client, "tech1").status_code == 200
    for _ in range(4):
        login(client, "tech1", "wrong")
    assert login(client, "tech1").status_code == 200


def test_usernames_are_case_insensitive(client, auth):
    auth.user("Tech.One", "technician", technician_id="T1")
    assert login(client, "TECH.ONE").status_code == 200


def test_missing_or_malformed_authorization_is_401(client):
    assert client.get("/v1/me").status_code == 401
    assert client.get("/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401
    assert client.get("/v1/me", headers={"Authorization": "Bearer "}).status_code == 401
    assert client.get("/v1/me", headers={"Authorization": "Bearer forged"}).status_code == 401


def test_a_user_can_set_their_time_zone(client, auth):
    auth.user("tech1", "technician", technician_id="T1")
    headers = auth.headers("tech1")
    ok = client.patch("/v1/me", json={"timezone": "America/Los_Angeles"}, headers=headers)
    assert ok.status_code == 200 and ok.get_json()["timezone"] == "America/Los_Angeles"
    bad = client.patch("/v1/me", json={"timezone": "Mars/Olympus"}, headers=headers)
    assert bad.status_code == 422
    assert client.patch("/v1/me", json={"timezone": None}, headers=headers).get_json()["timezone"] == "UTC"


def test_the_worker_purges_every_failure_older_than_the_window(client, auth, app, deps, clock):
    for n in range(3):  # one-off usernames from changing addresses: no later login of theirs purges them
        client.post("/v1/auth/token", json={"username": f"guess{n}", "password": "x"},
                    environ_base={"REMOTE_ADDR": f"10.0.0.{n}"})
    clock.advance(seconds=deps.settings.login_window_seconds + 1)
    client.post("/v1/auth/token", json={"username": "recent", "password": "x"})
    Worker(app).sync_if_due(force=True)
    with deps.db.session() as session:
        assert session.scalars(select(LoginFailure.username)).all() == ["recent"]


READS = ["/v1/jobs", "/v1/sync/changes"]  # the views that authenticate without the ORM (reads only)


def test_the_read_only_views_refuse_a_revoked_an_expired_token_and_a_disabled_account(client, auth, deps, clock):
    from sqlalchemy import select

    from techapi.auth.models import User

    auth.user("tech1", "technician", technician_id="T1")
    auth.user("boss", "supervisor", stores=("S1", "S2"))
    revoked, expiring, disabled = auth.headers("tech1"), auth.headers("tech1"), auth.headers("boss")
    for url in READS:
        assert client.get(url, headers=revoked).status_code == 200, url
        assert client.get(url, headers=disabled).status_code == 200, url
    assert client.post("/v1/auth/logout", headers=revoked).status_code == 204
    with deps.db.transaction() as session:
        session.scalars(select(User).where(User.username == "boss")).one().active = False
    for url in READS:
        assert client.get(url, headers=revoked).get_json()["message"] == "Invalid or revoked bearer token", url
        assert client.get(url, headers=disabled).get_json()["message"] == "Account is disabled", url
    clock.advance(hours=12, seconds=1)
    for url in READS:
        answer = client.get(url, headers=expiring)
        assert answer.status_code == 401 and "expired" in answer.get_json()["message"], url


def test_the_read_only_views_see_a_supervisors_stores_as_the_others_do(client, auth, world, synced):
    stores = tuple(world.store_ids[:2])
    auth.user("boss", "supervisor", stores=stores)
    headers = auth.headers("boss")
    me = client.get("/v1/me", headers=headers).get_json()  # the ORM's authentication
    listed = client.get("/v1/jobs", headers=headers).get_json()["jobs"]
    assert sorted(me["storeIds"]) == sorted(stores)
    details = [client.get(f"/v1/jobs/{j['serviceJobId']}", headers=headers).get_json() for j in listed]
    assert {d["storeId"] for d in details} == set(stores)
