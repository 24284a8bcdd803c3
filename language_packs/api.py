"""HTTP routes for languages and translation packs (filled in by the messages work)."""

from fastapi import APIRouter

router = APIRouter(tags=["languages"])
