"""The scene "Faces" tab's routes: each identified person with evidence and state; corrections."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from stash_sense.api.errors import ApiError
from stash_sense.api.params import id_param, json_body, only_keys
from stash_sense.api.serialize import iso, job_json
from stash_sense.api.signing import UrlSigner
from stash_sense.identify import identify_key
from stash_sense.identify.faces_view import person_state
from stash_sense.keys import DAEMON, IDENTIFY, QUEUE, REVIEW, STASH, TAGGING
from stash_sense.review.models import ItemFilter, ReviewItem
from stash_sense.stash.errors import StashError
from stash_sense.tagging.suggestion import KIND
from stash_sense.writes import AuditEntry, UndoError

_LOGGER = logging.getLogger(__name__)
routes = web.RouteTableDef()
_MAX_ITEMS = 1000


@routes.get("/api/v1/scenes/{id}/faces")
async def scene_faces(request: web.Request) -> web.Response:
    """Describe the latest identification for the Faces tab (200 even when there is none)."""
    app = request.app
    scene_id = id_param(request)
    live = await app[QUEUE].jobs.store.live_by_keys([identify_key(scene_id)])
    body: dict[str, Any] = {
        "scene_id": scene_id,
        "job": job_json(live[0]) if live else None,
        "identification": None,
        "persons": [],
    }
    found = await app[IDENTIFY].results.latest(scene_id)
    if found is None:
        return web.json_response(body)
    result = found.result
    scene_performers, stash_error = await _scene_performers(request, scene_id)
    items = await app[REVIEW].queue.list(
        ItemFilter(kinds=(KIND,), scene_ids=(scene_id,)), limit=_MAX_ITEMS
    )
    audits = await app[TAGGING].audit.for_scene(scene_id)
    persons = await asyncio.gather(
        *(
            _person(
                request,
                person,
                identification_id=found.id,
                scene_performers=scene_performers,
                items=items.items,
                audits=audits,
            )
            for person in result.get("persons", [])
        )
    )
    body["identification"] = {
        "id": found.id,
        "created_at": iso(found.created_at),
        "forced": found.forced,
        "duration": result.get("duration"),
        "frames_sampled": result.get("frames_sampled"),
        "faces_kept": result.get("faces_kept"),
        "unknown_persons": result.get("unknown_persons", 0),
        "database_version": result.get("database_version"),
    }
    body["persons"] = persons
    body["stash_error"] = stash_error
    return web.json_response(body)


async def _scene_performers(
    request: web.Request, scene_id: int
) -> tuple[dict[str, str], str | None]:
    """Return the scene's performers by id (name), or an error text when Stash fails."""
    try:
        scene = await request.app[STASH].client.find_scene(scene_id)
    except StashError as err:
        return {}, str(err)
    if scene is None:
        return {}, f"scene {scene_id} no longer exists in Stash"
    return {p.id: p.name for p in scene.performers}, None


async def _person(
    request: web.Request,
    person: dict[str, Any],
    *,
    identification_id: int,
    scene_performers: dict[str, str],
    items: list[ReviewItem],
    audits: list[AuditEntry],
) -> dict[str, Any]:
    """Describe one person: match, evidence (signed crop URLs), reference image, state."""
    app = request.app
    best = person.get("best")
    universal_id = best.get("universal_id") if best else None
    local_id = None
    if universal_id:
        try:
            local_id = (await app[TAGGING].resolver.resolve(universal_id)).performer_id
        except StashError:
            local_id = None
    state = person_state(
        identification_id=identification_id,
        index=int(person.get("index", 0)),
        universal_id=universal_id,
        local_performer_id=local_id,
        scene_performer_ids=scene_performers,
        items=items,
        audits=audits,
    )
    return {
        "index": person.get("index"),
        "frame_count": person.get("frame_count"),
        "face_count": person.get("face_count"),
        "reason": person.get("reason", ""),
        "best": best,
        "alternatives": person.get("alternatives", []),
        "evidence": [_evidence(app[DAEMON].signer, face) for face in person.get("evidence", [])],
        "local_performer_id": local_id,
        "reference_image_url": app[IDENTIFY].faces.reference_image(universal_id, local_id),
        "chosen_performer": _chosen(state.performer_id, scene_performers)
        if state.state == "corrected"
        else None,
        **state.to_json(),
    }


def _evidence(signer: UrlSigner, face: dict[str, Any]) -> dict[str, Any]:
    crop_id = face.get("crop_id")
    path = f"/api/v1/crops/{crop_id}"
    return {
        "timestamp": face.get("timestamp"),
        "score": face.get("score"),
        "crop_id": crop_id,
        "crop_signed_url": signer.sign(path) if crop_id else None,
    }


def _chosen(performer_id: str | None, scene_performers: dict[str, str]) -> dict[str, Any] | None:
    if performer_id is None:
        return None
    return {
        "id": performer_id,
        "name": scene_performers.get(performer_id),
        "image_url": f"/performer/{performer_id}/image",
    }


@routes.post("/api/v1/scenes/{id}/faces/{index}/someone-else")
async def someone_else(request: web.Request) -> web.Response:
    """Say a person is a local performer of your choice: undo/reject the match, add the pick."""
    app = request.app
    scene_id = id_param(request)
    raw_index = request.match_info["index"]
    if not (raw_index.isascii() and raw_index.isdigit()) or len(raw_index) > 6:
        raise ApiError(400, "bad_parameter", "index must be a person index (0, 1, ...)")
    index = int(raw_index)
    data = await json_body(request)
    if not isinstance(data, dict):
        raise ApiError(422, "unprocessable", "body must be a JSON object")
    only_keys(data, ("performer_id", "identification_id"))
    performer_id = data.get("performer_id")
    if (
        not isinstance(performer_id, str)
        or not performer_id.isascii()
        or not performer_id.isdigit()
    ):
        raise ApiError(422, "unprocessable", "performer_id must be a Stash performer id (digits)")
    found = await app[IDENTIFY].results.latest(scene_id)
    if found is None:
        raise ApiError(404, "not_found", f"scene {scene_id} has not been identified")
    if data.get("identification_id") not in (None, found.id):
        raise ApiError(409, "conflict", "the scene was identified again; reload and retry")
    person = next((p for p in found.result.get("persons", []) if p.get("index") == index), None)
    if person is None:
        raise ApiError(404, "not_found", f"identification {found.id} has no person {index}")
    best = person.get("best")
    try:
        correction = await app[TAGGING].corrections.someone_else(
            scene_id,
            identification_id=found.id,
            person_index=index,
            universal_id=best.get("universal_id") if best else None,
            performer_id=performer_id,
        )
    except UndoError as err:
        raise ApiError(409, "conflict", str(err)) from None
    except StashError as err:
        raise ApiError(502, "stash_error", str(err)) from None
    return web.json_response(
        {"audit_id": correction.audit_id, "undone_audit_id": correction.undone_audit_id}
    )
