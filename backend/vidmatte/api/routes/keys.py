"""Idempotency-Keys asked about: whether the request sent with one was answered, without
sending it again (for an upload, its whole file): the kept answer, a 409 while it runs, a 404
when the key has no answer (then the request is sent again). No fingerprint is compared: the
key is the client's own random secret, and only a client with the token can ask
(api/idempotency.py keeps the answers)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path

from vidmatte.api.idempotency import KEY_HEADER, checked_key
from vidmatte.api.schemas import Error, KeyAnswer
from vidmatte.api.services import Services, services
from vidmatte.store import KeyInUse

router = APIRouter(tags=["idempotency"])


@router.get(
    # `:path`: a key may hold a slash (base64); sent percent-encoded, it arrives decoded.
    "/api/idempotency-keys/{key:path}",
    response_model=KeyAnswer,
    responses={400: {"model": Error}, 404: {"model": Error}, 409: {"model": Error}},
)
def get_key_answer(
    key: Annotated[str, Path(description="An Idempotency-Key this client sent.")],
    s: Services = Depends(services),
) -> KeyAnswer:
    """The answer kept for the request sent with `key`, as its retry would get it, without
    sending that request again: an upload whose answer was lost asks this before it sends its
    whole file again. 409 while the request is still being answered; 404 when the key has no
    answer (never sent, its request failed, or expired): then the request is sent again. No
    fingerprint is compared: the key is the client's random secret, and only a client with the
    token can ask."""
    key = checked_key(key, "give the key the request was sent with")
    try:
        answered = s.store.key_answer(key)
    except KeyInUse as exc:
        raise HTTPException(409, str(exc)) from exc
    if answered is None:
        raise HTTPException(
            404,
            f"{KEY_HEADER} '{key}' has no answer kept: no request with it was answered in the "
            f"last {s.settings.idempotency_hours:g} hours (or it failed); send the request again",
        )
    return KeyAnswer(
        key=key, route=answered.route, status=answered.status, body=json.loads(answered.body)
    )
