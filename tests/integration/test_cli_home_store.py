"""`techapi users create --role technician --store S`: a technician's home store, where their time off goes."""

from sqlalchemy import select

from techapi.auth.models import User


def test_a_technician_gets_one_home_store_from_users_create(runner, deps):
    ok = runner.invoke(["users", "create", "--username", "ana", "--role", "technician", "--technician-id",
                        "ATECH0000001", "--store", "S1", "--password-stdin"], input="a-long-password\n")
    assert ok.exit_code == 0, ok.stderr
    two = runner.invoke(["users", "create", "--username", "bo", "--role", "technician", "--technician-id",
                         "ATECH0000002", "--store", "S1", "--store", "S2", "--password-stdin"],
                        input="a-long-password\n")
    assert two.exit_code != 0 and "one home store" in two.stderr
    with deps.db.session() as session:
        assert session.scalar(select(User).where(User.username == "ana")).store_ids == ["S1"]
        assert session.scalar(select(User).where(User.username == "bo")) is None
