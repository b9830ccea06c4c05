"""The JSON bodies of the reader-app login and device-token endpoints."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from app.platform.contract import Answer, Body


class TokenRequest(Body):
    device_name: Annotated[str, Field(max_length=200, description="Shown to the patron on /account "
                                                                  "(default: the User-Agent)")] | None = None


class DeviceToken(Answer):
    omit_none = True
    id: int
    token_type: Literal["bearer"]
    name: str
    created_at: datetime
    expires_at: datetime
    expires_in: int = Field(description="Seconds from creation to expiry")
    access_token: str | None = Field(None, description="Only in the answer that issues the token")
    current: bool | None = Field(None, description="In the list: the token of this request")
    revoked: bool | None = Field(None, description="In the list: revoked by the patron")


class DeviceTokens(Answer):
    omit_none = True
    tokens: list[DeviceToken]
