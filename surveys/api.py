"""HTTP routes for surveys, sessions, answers, codebooks and exports (filled in by the surveys work)."""

from fastapi import APIRouter

router = APIRouter(tags=["surveys"])
