"""Configuration from environment variables.

Attribute names APP_ID, APP_PASSWORD, APP_TYPE and APP_TENANTID are the ones
botbuilder's ConfigurationBotFrameworkAuthentication reads.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

Windows = tuple[tuple[int, float], ...]


def parse_windows(text: str) -> Windows:
    """"7/1,8/2" -> ((7, 1.0), (8, 2.0)): at most N operations per S seconds."""
    try:
        windows = tuple((int(n), float(s)) for n, s in (part.split("/") for part in text.split(",")))
    except ValueError:
        raise ValueError(f"rate limits must look like '7/1,8/2' (operations/seconds), not {text!r}") from None
    if not windows or any(n < 1 or s <= 0 for n, s in windows):
        raise ValueError(f"rate limits need positive numbers, not {text!r}")
    return windows


@dataclass(frozen=True)
class Config:
    HOST: str = "127.0.0.1"
    PORT: int = 3978
    DB_PATH: str = "var/poll_bot.sqlite3"
    DATABASE_URL: str = ""  # postgresql://...: use PostgreSQL instead of the SQLite file
    APP_ID: str = ""
    APP_PASSWORD: str = ""
    APP_TYPE: str = "MultiTenant"
    APP_TENANTID: str = ""
    # Teams' per-thread and per-tenant budgets for send/update/delete.
    THREAD_LIMITS: Windows = ((7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0))
    TENANT_LIMITS: Windows = ((50, 1.0),)
    RETRY_ATTEMPTS: int = 6
    RETRY_BASE_DELAY: float = 0.5
    GCC_SERVICE_URL: str = "https://smba.infra.gcc.teams.microsoft.com/"
    DOUBLE_PRESS_SECONDS: float = 1.5
    # An approver who hasn't read their 1:1 request after this long gets one reminder.
    APPROVAL_REMINDER_SECONDS: float = 4 * 3600
    TIMER_SECONDS: float = 30.0  # how often due dates and reminders are checked

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Config":
        env = os.environ if env is None else env
        return cls(
            HOST=env.get("HOST", cls.HOST),
            PORT=int(env.get("PORT", cls.PORT)),
            DB_PATH=env.get("POLL_BOT_DB", cls.DB_PATH),
            DATABASE_URL=env.get("POLL_BOT_DATABASE_URL", ""),
            APP_ID=env.get("MicrosoftAppId", ""),
            APP_PASSWORD=env.get("MicrosoftAppPassword", ""),
            APP_TYPE=env.get("MicrosoftAppType", cls.APP_TYPE) or cls.APP_TYPE,
            APP_TENANTID=env.get("MicrosoftAppTenantId", ""),
            THREAD_LIMITS=parse_windows(env["POLL_BOT_THREAD_LIMITS"]) if "POLL_BOT_THREAD_LIMITS" in env
            else cls.THREAD_LIMITS,
            TENANT_LIMITS=parse_windows(env["POLL_BOT_TENANT_LIMITS"]) if "POLL_BOT_TENANT_LIMITS" in env
            else cls.TENANT_LIMITS,
            RETRY_ATTEMPTS=int(env.get("POLL_BOT_RETRY_ATTEMPTS", cls.RETRY_ATTEMPTS)),
            RETRY_BASE_DELAY=float(env.get("POLL_BOT_RETRY_BASE_DELAY", cls.RETRY_BASE_DELAY)),
            GCC_SERVICE_URL=env.get("POLL_BOT_GCC_SERVICE_URL", cls.GCC_SERVICE_URL),
            DOUBLE_PRESS_SECONDS=float(env.get("POLL_BOT_DOUBLE_PRESS_SECONDS", cls.DOUBLE_PRESS_SECONDS)),
            APPROVAL_REMINDER_SECONDS=float(env.get("POLL_BOT_APPROVAL_REMINDER_SECONDS",
                                                    cls.APPROVAL_REMINDER_SECONDS)),
            TIMER_SECONDS=float(env.get("POLL_BOT_TIMER_SECONDS", cls.TIMER_SECONDS)),
        )

    @property
    def local_development(self) -> bool:
        return not self.APP_ID
