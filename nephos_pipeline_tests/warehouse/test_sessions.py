"""The session pool and the Snowflake connection settings (no server needed)."""

from __future__ import annotations

import pytest
from snowflake.connector import errors

from nephos_pipeline import settings
from nephos_pipeline.resources import build_warehouse
from nephos_pipeline.warehouse.sessions import SessionPool
from nephos_pipeline.warehouse.snowflake import connection_error, likely_fix


class Conn:
    def __init__(self) -> None:
        self.closed = False

    def is_closed(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True


def test_pool_reuses_idle_sessions_and_caps_them() -> None:
    made: list[Conn] = []
    pool = SessionPool(lambda: made.append(Conn()) or made[-1], max_idle=1)
    with pool.session() as a:
        pass
    with pool.session() as b:
        assert b is a
        with pool.session() as c:  # nested use gets its own session
            assert c is not b
    assert pool.opened == 2 and sum(c.closed for c in made) == 1  # only one kept idle
    pool.close()
    assert all(c.closed for c in made)


def test_pool_keeps_a_session_after_a_sql_error_but_not_after_a_connection_error() -> None:
    pool = SessionPool(Conn)
    with pytest.raises(errors.ProgrammingError), pool.session() as first:
        raise errors.ProgrammingError("syntax error")
    with pytest.raises(errors.OperationalError), pool.session() as second:
        raise errors.OperationalError("connection reset")
    assert second is first and first.closed
    with pool.session() as third:
        assert third is not first


def test_pool_drops_stale_sessions() -> None:
    pool = SessionPool(Conn, idle_timeout_s=0.0)
    with pool.session() as first:
        pass
    with pool.session() as second:
        assert second is not first and first.closed


def test_endpoint_settings_and_timeouts_reach_the_connector(monkeypatch) -> None:
    env = {"NEPHOS_WAREHOUSE": "snowflake", "SNOWFLAKE_ACCOUNT": "acme-prod", "SNOWFLAKE_USER": "u",
           "SNOWFLAKE_PASSWORD": "p", "SNOWFLAKE_HOST": "acme.privatelink.snowflakecomputing.com",
           "SNOWFLAKE_PORT": "8443", "SNOWFLAKE_PROTOCOL": "HTTPS", "SNOWFLAKE_LOGIN_TIMEOUT": "9"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with build_warehouse(env).process_config_and_initialize_cm() as live:
        args = live.snowflake._connection_args
    assert (args["host"], args["port"], args["protocol"]) == ("acme.privatelink.snowflakecomputing.com", 8443, "https")
    assert args["login_timeout"] == 9 and args["network_timeout"] == settings.DEFAULT_NETWORK_TIMEOUT_S
    assert settings.snowflake_endpoint({}) == {}
    for bad in ({"SNOWFLAKE_PORT": "http"}, {"SNOWFLAKE_PROTOCOL": "ftp"}):
        with pytest.raises(ValueError, match="SNOWFLAKE_"):
            settings.snowflake_endpoint(bad)


@pytest.mark.parametrize(("errno", "message", "fix"), [
    (250001, "Could not connect to Snowflake backend after 2 attempt(s).", "account identifier"),
    (390100, "Incorrect username or password was specified.", "SNOWFLAKE_PASSWORD"),
    (390189, "Role 'X' specified in the connect string is not granted to this user.", "SNOWFLAKE_ROLE"),
    (390422, "IP 1.2.3.4 is not allowed to access Snowflake.", "network policy"),
])
def test_likely_fix(errno: int, message: str, fix: str) -> None:
    assert fix in likely_fix(errno, message)
    exc = errors.DatabaseError(msg=message, errno=errno)
    text = connection_error({"account": "acme-prod", "user": "NEPHOS_PIPELINE", "password": "s3cret"}, exc)
    assert "acme-prod" in text and "https://acme-prod.snowflakecomputing.com:443" in text and str(errno) in text
    assert "s3cret" not in text
