"""``/api/v2/users``: usage per user and per machine of a team server (DESIGN 12)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from claude_usage.api.params import filters, team_only
from claude_usage.api.schemas import ErrorBody, UsageRow
from claude_usage.api.v2 import ERRORS, json_response
from claude_usage.reports import Query

router = APIRouter(prefix="/api/v2", tags=["team"])


class UserRow(UsageRow):
    user: str
    machines: list[str] = Field(description="Names of the machines that pushed as this user")


class MachineRow(UsageRow):
    machine: str = Field(description="The machine's name (push --machine, default its host name)")
    machineId: str = Field(description="The machine's stable id")
    user: str = Field(description="The user it last pushed as")
    firstPush: str | None = Field(description="ISO-8601 UTC")
    lastPush: str | None = Field(description="ISO-8601 UTC")
    pushes: int


class UsersResponse(BaseModel):
    users: list[UserRow] = Field(description="By cost, highest first")
    machines: list[MachineRow] = Field(description="By user, then cost")
    totals: UsageRow
    timezone: str
    unpricedModels: list[str]


_ERRORS = {**ERRORS, 409: {"model": ErrorBody, "description": "Not a team server"}}


@router.get("/users", response_model=UsersResponse, responses=_ERRORS, dependencies=[Depends(team_only)],
            summary="Usage per user and per machine (team server)")
def users(request: Request, q: Query = Depends(filters)) -> Response:
    from claude_usage.team.users import users_document

    store = request.app.state.store
    return json_response(store.cached(("users", q), lambda view: users_document(view, q)))
