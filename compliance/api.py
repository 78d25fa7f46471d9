"""HTTP routes of the compliance domain: thin handlers over ``service.py``."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["compliance"])
