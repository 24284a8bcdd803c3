"""HTTP routes for recordings and transcripts (filled in by the voice-answers work)."""

from fastapi import APIRouter

router = APIRouter(tags=["recordings"])
