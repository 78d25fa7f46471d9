"""HTTP routes of the payments domain: thin handlers over ``service.py``."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["payments"])
