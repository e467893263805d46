"""jsonschema validation of EIDO documents and STA-024 frames against the NENA files.

The NENA schemas are OpenAPI 3.0 component schemas spread over several YAML files; a
``referencing`` registry loads each file on first use so ``$ref``s across them resolve.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "formats" / "eido"
EIDO_DIR = (SHARED / "NENA911-EIDO-JSON" / "Schema").resolve()
WS_FILE = (SHARED / "NENA911-WebSocket-Subscribe-Notify" / "schema" / "websocket.yaml").resolve()


@functools.cache
def _load(path: str) -> Any:
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=yaml.CSafeLoader)


def _retrieve(uri: str) -> Resource[Any]:
    path = uri.removeprefix("file://")
    return Resource.from_contents(_load(path), default_specification=DRAFT7)


@functools.cache
def _registry() -> Registry[Any]:
    return Registry(retrieve=_retrieve)  # type: ignore[call-arg]


def validator(file: Path, component: str) -> jsonschema.Draft7Validator:
    base = f"file://{file}"
    schema = {"$ref": f"{base}#/components/schemas/{component}"}
    return jsonschema.Draft7Validator(schema, registry=_registry())


def eido_validator() -> jsonschema.Draft7Validator:
    return validator(EIDO_DIR / "openapi.yaml", "EmergencyIncidentDataObjectType")


def ws_validator(component: str) -> jsonschema.Draft7Validator:
    return validator(WS_FILE, component)


def errors(v: jsonschema.Draft7Validator, doc: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in v.iter_errors(doc)]
