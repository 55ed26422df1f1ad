"""OpenAPI documents the tests import, and changed versions of them."""

from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "openapi"
RAIL = FIXTURES / "lumen-rail.json"


def rail_version_two() -> bytes:
    """Lumen Rail with one change of every kind a spec-change impact names."""
    content = json.loads(RAIL.read_text(encoding="utf-8"))
    schemas = content["components"]["schemas"]
    del schemas["BookingRequest"]["properties"]["bicycle_spaces"]  # a removed field
    schemas["Passenger"]["properties"]["first_name"]["maxLength"] = 20  # a tightened limit (was 50)
    schemas["BookingUpdate"]["properties"]["reason"] = {"type": "string"}  # a new required field
    schemas["BookingUpdate"]["required"] = ["reason"]
    trips = content["paths"]["/trips"]["get"]["responses"]
    trips["206"] = trips.pop("200")  # a changed status
    del content["paths"]["/bookings/{bookingId}"]["delete"]  # a removed operation
    return json.dumps(content).encode()
