"""`techapi config` prints the effective configuration with every credential
masked: passwords in URLs (user-info or query parameter) and every secret setting."""

from __future__ import annotations

import json

from techapi.spapi.sandbox import SANDBOX_CLIENT_SECRET, SANDBOX_REFRESH_TOKEN

WEBHOOK_SECRET = "whsec_" + "c2VjcmV0LXdlYmhvb2sta2V5LTEyMzQ1Njc4OTA="
SECRETS = {
    "TECHAPI_DATABASE_URL": "postgresql+psycopg://app:userinfo-PW-1@127.0.0.1:5432/db"
                            "?password=query-PW-2&sslpassword=query-PW-3&sslmode=require",
    "TECHAPI_REDIS_URL": "rediss://default:redis-PW-4@cache.internal:6380/0?password=redis-PW-5",
    "TECHAPI_SPAPI_ENDPOINT": "https://sellingpartnerapi-na.amazon.com",
    "TECHAPI_LWA_CLIENT_ID": "amzn1.application-oa2-client.public-id",
    "TECHAPI_LWA_CLIENT_SECRET": SANDBOX_CLIENT_SECRET,
    "TECHAPI_LWA_REFRESH_TOKEN": SANDBOX_REFRESH_TOKEN,
    "TECHAPI_SECRET_KEY": "flask-secret-key-PW-6-long-enough",
    "TECHAPI_WEBHOOK_SECRET": WEBHOOK_SECRET,
    "TECHAPI_METRICS_TOKEN": "metrics-token-PW-7-long-enough",
}
LEAKS = ("userinfo-PW-1", "query-PW-2", "query-PW-3", "redis-PW-4", "redis-PW-5", SANDBOX_CLIENT_SECRET,
         SANDBOX_REFRESH_TOKEN, "flask-secret-key-PW-6", WEBHOOK_SECRET, "metrics-token-PW-7")


def test_config_masks_every_credential_in_urls_and_settings(runner):
    result = runner.invoke(["config"], env=SECRETS)
    assert result.exit_code == 0, result.output
    for secret in LEAKS:
        assert secret not in result.output, f"{secret} printed by `techapi config`"
    shown = json.loads(result.output)
    # What is not a credential stays readable, so an operator can check the deploy.
    assert shown["database_url"] == ("postgresql+psycopg://app:***@127.0.0.1:5432/db"
                                     "?password=***&sslpassword=***&sslmode=require")
    assert shown["redis_url"] == "rediss://default:***@cache.internal:6380/0?password=***"
    assert shown["lwa_client_id"] == "amzn1.application-oa2-client.public-id"
    assert shown["lwa_client_secret"] == shown["metrics_token"] == shown["secret_key"] == "***"
    assert shown["webhook_secrets"] == ["***"]
