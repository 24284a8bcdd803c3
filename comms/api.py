"""HTTP routes for health messages and their translations (filled in by the messages work)."""

from fastapi import APIRouter

router = APIRouter(tags=["messages"])
