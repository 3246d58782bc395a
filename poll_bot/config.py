"""Configuration from environment variables.

Attribute names APP_ID, APP_PASSWORD, APP_TYPE and APP_TENANTID are the ones
botbuilder's ConfigurationBotFrameworkAuthentication reads.
"""
from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Config:
    HOST: str = "127.0.0.1"
    PORT: int = 3978
    DB_PATH: str = "var/poll_bot.sqlite3"
    APP_ID: str = ""
    APP_PASSWORD: str = ""
    APP_TYPE: str = "MultiTenant"
    APP_TENANTID: str = ""

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Config":
        env = os.environ if env is None else env
        return cls(
            HOST=env.get("HOST", cls.HOST),
            PORT=int(env.get("PORT", cls.PORT)),
            DB_PATH=env.get("POLL_BOT_DB", cls.DB_PATH),
            APP_ID=env.get("MicrosoftAppId", ""),
            APP_PASSWORD=env.get("MicrosoftAppPassword", ""),
            APP_TYPE=env.get("MicrosoftAppType", cls.APP_TYPE) or cls.APP_TYPE,
            APP_TENANTID=env.get("MicrosoftAppTenantId", ""),
        )

    @property
    def local_development(self) -> bool:
        return not self.APP_ID
