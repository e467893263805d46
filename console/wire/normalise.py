"""Step 1 of reading an EIDO: one canonical shape, whatever the writer's habits.

A CAD's serialiser may spell a property in another case (``lastUpdateTimestamp`` for NENA's
``lastUpdateTimeStamp``), write a single value where the schema has an array (or a one-element
array where it has a single value), and leave out the prologue of a component. :func:`normalise`
returns a copy with NENA's spelling, the schema's shapes, and every component carrying a
prologue: the document's own time and agency where the component has none, the unit's
``emergencyResourceName`` as its ``$id``, and for other components without ``$id`` a name built
from their content (stable across re-sends of the same component). The input is not changed.
The extension object (``responderConsoleExtension``) is the console's own and passes unchanged.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

Json = dict[str, Any]

EXTENSION_KEY = "responderConsoleExtension"

COMPONENT_LISTS = (
    "mergeComponent",
    "linkComponent",
    "callComponent",
    "callbackComponent",
    "dispatchComponent",
    "alarmsSensorsComponent",
    "agencyComponent",
    "agentComponent",
    "notesComponent",
    "additionalDataComponent",
    "locationComponent",
    "personComponent",
    "vehicleComponent",
    "emergencyResourceComponent",
    "cautionComponent",
)

ARRAYS = frozenset(
    [
        *COMPONENT_LISTS,
        "dispositionComponent",
        "eidoExtensionId",
        "incidentStatusCommonRegistryText",
        "incidentStatusInternalText",
        "locationReference",
        "personReference",
        "vehicleReference",
        "notesReference",
        "additionalDataReference",
        "secondaryUnitStatusRegistryText",
        "unitStatusInternal",
        "resourceAttributeRegistryText",
        "resourceAttributeInternalText",
        "emergencyResourceReference",
        "agencyRoleDescriptionRegistryText",
        "agencyType",
        "personIncidentRoleRegistryText",
        "callIdentifier",
        "localIdentifier",
        "crossStreetByValue",
        "intersectingStreetByValue",
        "callBackInformationUri",
        "agentRoleRegistryText",
    ]
)

SINGLES = frozenset(
    [
        "$id",
        "$ref",
        "lastUpdateTimeStamp",
        "updatedByAgencyReference",
        "updatedByAgentReference",
        "eidoVersion",
        "issuingElementIdentification",
        "incidentComponent",
        "incidentTypeCommonRegistryText",
        "incidentTypeInternalCode",
        "incidentTypeInternalText",
        "incidentCommonPriorityNumber",
        "incidentPriorityInternalText",
        "internalIncidentId",
        "reportNumberType",
        "primaryUnitStatusRegistryText",
        "emergencyResourceTypeCommonRegistryText",
        "emergencyResourceTypeInternalText",
        "emergencyResourceName",
        "unitLocationReference",
        "unitDestinationReference",
        "activeOnIncidentId",
        "locationTypeDescriptionRegistryText",
        "locationByValue",
        "locationDescriptionText",
        "dispositionCommonRegistryCode",
        "dispositionCategoryText",
        "dispositionPrimaryIndicator",
        "cautionTypeCommonRegistryText",
        "cautionTypeInternalText",
        "notesActionComments",
        "callStartTimestamp",
        "callBackReference",
        "updatedCbn",
        "updatedCbnIdentifierUri",
        "incidentOwningAgencyIndicator",
        "ncPersonComponent",
        "agencyReference",
    ]
)

_OTHER_NAMES = ("agentReference", "eta", "priorityIdentifier", "callStateRegistryText")

CANONICAL: dict[str, str] = {n.lower(): n for n in (*ARRAYS, *SINGLES, *_OTHER_NAMES)}
"""Lower-case property name -> NENA's spelling."""

PROLOGUE_TIME = "lastUpdateTimeStamp"
PROLOGUE_AGENCY = "updatedByAgencyReference"


_EXACT: dict[str, str] = {n: n for n in CANONICAL.values()}
_EXT_LOWER = EXTENSION_KEY.lower()


def _name(k: Any) -> Any:
    if not isinstance(k, str):
        return k
    exact = _EXACT.get(k)
    if exact is not None:
        return exact
    low = k.lower()
    if low == _EXT_LOWER:
        return EXTENSION_KEY
    return CANONICAL.get(low, k)


def _walk(obj: dict[str, Any]) -> Json:
    """Canonical names and shapes, recursively (hot: every document passes here once)."""
    out: Json = {}
    exact = _EXACT.get
    for k, v in obj.items():
        name = exact(k)
        if name is None:
            name = _name(k)
        if name == EXTENSION_KEY:
            out[name] = v
            continue
        t = type(v)
        if t is dict:
            v = _walk(v)
        elif t is list:
            v = _walk_list(v)
        if name in ARRAYS:
            if v is not None and type(v) is not list:
                v = [v]
        elif name in SINGLES and type(v) is list and len(v) == 1:
            v = v[0]
        out[name] = v
    return out


def _walk_list(items: list[Any]) -> list[Any]:
    out = []
    for x in items:
        t = type(x)
        out.append(_walk(x) if t is dict else _walk_list(x) if t is list else x)
    return out


def _digest(obj: Any) -> str:
    # Keys in the order given: a writer re-sending the same content writes it in the same order
    # (if not, the document is read again and its facts, the same ones, are deduplicated).
    raw = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.blake2b(raw.encode("utf-8", "surrogatepass"), digest_size=6).hexdigest()


def _inherit(comp: Any, key: str, at: Any, agency: Any) -> None:
    if not isinstance(comp, dict):
        return
    if "$id" not in comp:
        name = comp.get("emergencyResourceName") if key == "emergencyResourceComponent" else None
        comp["$id"] = name if isinstance(name, str) and name else f"{key}:{_digest(comp)}"
    if PROLOGUE_TIME not in comp and at is not None:
        comp[PROLOGUE_TIME] = at
    if PROLOGUE_AGENCY not in comp and agency is not None:
        comp[PROLOGUE_AGENCY] = agency


def normalise(doc: Mapping[str, Any]) -> Json:
    """A canonical copy of one EIDO (see the module docstring); not a validation."""
    out: Json = _walk(dict(doc))
    at = out.get(PROLOGUE_TIME)
    agency = out.get(PROLOGUE_AGENCY)
    if agency is None and isinstance(out.get("issuingElementIdentification"), str):
        agency = {"$ref": out["issuingElementIdentification"]}
        out[PROLOGUE_AGENCY] = agency
    for key in COMPONENT_LISTS:
        for comp in out.get(key) or () if isinstance(out.get(key), list) else ():
            _inherit(comp, key, at, agency)
            if key == "callbackComponent" and isinstance(comp, dict):
                _inherit(comp.get("updatedCbn"), "updatedCbn", comp.get(PROLOGUE_TIME), agency)
    inc = out.get("incidentComponent")
    if isinstance(inc, dict):
        _inherit(inc, "incidentComponent", at, agency)
        for d in (
            inc.get("dispositionComponent") or ()
            if isinstance(inc.get("dispositionComponent"), list)
            else ()
        ):
            _inherit(d, "dispositionComponent", inc.get(PROLOGUE_TIME), agency)
    return out


def document_key(doc: Any) -> str:
    """The duplicate key of one EIDO: ``$id|lastUpdateTimeStamp|content digest``.

    Property names are matched case-insensitively, so ``lastUpdateTimestamp`` and
    ``lastUpdateTimeStamp`` give the same key. The content digest makes a full-state re-send of an
    incident with a constant ``$id`` and new content a new document, while an identical re-send
    is still recognised as one already read.
    """
    if not isinstance(doc, dict):
        return f"?|?|{_digest(doc)}"
    ident = at = None
    for k, v in doc.items():
        low = k.lower() if isinstance(k, str) else ""
        if low == "$id":
            ident = v
        elif low == "lastupdatetimestamp":
            at = v
    return f"{ident}|{at}|{_digest(doc)}"
