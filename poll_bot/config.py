"""Configuration from environment variables.

Attribute names APP_ID, APP_PASSWORD, APP_TYPE, APP_TENANTID and the TO_BOT_FROM_* /
TO_CHANNEL_FROM_* ones are those botbuilder's ConfigurationBotFrameworkAuthentication
reads from the configuration object.
"""
from __future__ import annotations

import ipaddress
import math
import os
from dataclasses import dataclass

Windows = tuple[tuple[int, float], ...]


# botbuilder's own configuration keys, read from the environment under the same names.
AUTH_ENDPOINTS = ("TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL", "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER",
                  "TO_CHANNEL_FROM_BOT_LOGIN_URL", "TO_CHANNEL_FROM_BOT_OAUTH_SCOPE")
APP_TYPES = {"multitenant": "MultiTenant", "singletenant": "SingleTenant", "userassignedmsi": "UserAssignedMSI"}


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost; an empty HOST listens on every interface."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
    # Empty: botbuilder's public-cloud values (what Teams uses). Set all four to use others.
    TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL: str = ""
    TO_BOT_FROM_CHANNEL_TOKEN_ISSUER: str = ""
    TO_CHANNEL_FROM_BOT_LOGIN_URL: str = ""
    TO_CHANNEL_FROM_BOT_OAUTH_SCOPE: str = ""
    ALLOW_UNAUTHENTICATED: bool = False
    # Teams' per-thread and per-tenant budgets for send/update/delete.
    THREAD_LIMITS: Windows = ((7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0))
    TENANT_LIMITS: Windows = ((50, 1.0),)
    RETRY_ATTEMPTS: int = 6
    RETRY_BASE_DELAY: float = 0.5
    GCC_SERVICE_URL: str = "https://smba.infra.gcc.teams.microsoft.com/"
    DOUBLE_PRESS_SECONDS: float = 1.5
    # An approver who hasn't read their 1:1 request after this long gets one reminder.
    APPROVAL_REMINDER_SECONDS: float = 4 * 3600
    TIMER_SECONDS: float = 30.0  # how often due dates, reminders and retention are checked
    # On SIGTERM/SIGINT: finish turns and deliver what can go out within this many seconds, then exit.
    SHUTDOWN_SECONDS: float = 10.0
    # Closed polls and finished requests older than this many days are deleted; 0 keeps them forever.
    RETENTION_DAYS: float = 0.0
    SECRET: str = ""  # signs export links; empty: generated into the database's folder on first start
    PUBLIC_URL: str = ""  # where people reach the bot (its /export/ links); empty: http://HOST:PORT

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
            **{name: env.get(name, "") for name in AUTH_ENDPOINTS},
            ALLOW_UNAUTHENTICATED=env.get("POLL_BOT_ALLOW_UNAUTHENTICATED", "") == "1",
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
            SHUTDOWN_SECONDS=_not_negative("POLL_BOT_SHUTDOWN_SECONDS", env, cls.SHUTDOWN_SECONDS),
            RETENTION_DAYS=_not_negative("POLL_BOT_RETENTION_DAYS", env, cls.RETENTION_DAYS),
            SECRET=env.get("POLL_BOT_SECRET", ""),
            PUBLIC_URL=env.get("POLL_BOT_PUBLIC_URL", ""),
        )

    @property
    def local_development(self) -> bool:
        return not self.APP_ID

    def startup_problem(self) -> str | None:
        """Why this configuration must not start the bot, or None."""
        if not self.APP_ID:
            if self.ALLOW_UNAUTHENTICATED or is_loopback(self.HOST):
                return None
            return (f"MicrosoftAppId is not set, so requests to /api/messages are not authenticated, and "
                    f"HOST={self.HOST!r} is not a loopback address: anyone who can reach the port could act as "
                    "any Teams user. Set MicrosoftAppId and MicrosoftAppPassword, or HOST=127.0.0.1, or "
                    "POLL_BOT_ALLOW_UNAUTHENTICATED=1 if something in front of the bot authenticates callers.")
        app_type = self.APP_TYPE.lower()
        if app_type not in APP_TYPES:
            return f"MicrosoftAppType={self.APP_TYPE!r} is not one of {', '.join(APP_TYPES.values())}."
        if not self.APP_PASSWORD and app_type != "userassignedmsi":
            return ("MicrosoftAppId is set but MicrosoftAppPassword is empty: the bot could not get tokens to "
                    "answer in Teams. Set MicrosoftAppPassword to the app registration's client secret, or "
                    "MicrosoftAppType=UserAssignedMSI for a managed identity.")
        if not self.APP_TENANTID and app_type != "multitenant":
            return f"MicrosoftAppType={self.APP_TYPE} needs MicrosoftAppTenantId (the app registration's tenant)."
        missing = [name for name in AUTH_ENDPOINTS if not getattr(self, name)]
        if 0 < len(missing) < len(AUTH_ENDPOINTS):
            return (f"{', '.join(missing)} missing: botbuilder uses {', '.join(AUTH_ENDPOINTS)} together and "
                    "would refuse every token with only some of them. Set all four, or none for the public cloud.")
        return None


def _not_negative(name: str, env, default: float) -> float:
    text = env.get(name) or str(default)
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a number of 0 or more, not {text!r}")
    return value
