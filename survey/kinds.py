"""Facility kinds: what an auditor can audit and the official id each kind carries. Pure; no Flask."""

from __future__ import annotations

from dataclasses import dataclass


def N_(message: str) -> str:
    """Mark a string for translation without translating it here (translated when shown)."""
    return message


@dataclass(frozen=True)
class FacilityKind:
    """One kind of child facility."""

    code: str
    label: str
    short: str
    official_id_label: str | None
    icon: str


KINDS: tuple[FacilityKind, ...] = (
    FacilityKind("ruang_bermain", N_("Play space (RBRA, RTH, RPTRA)"), N_("Play"), None, "playground"),
    FacilityKind("sekolah", N_("School (SRA)"), N_("School"), N_("NPSN"), "school"),
    FacilityKind("puskesmas", N_("Puskesmas (PRAP)"), N_("Puskesmas"), N_("Puskesmas code"), "health"),
    FacilityKind("pka", N_("Children's creativity centre (PKA)"), N_("PKA"), None, "star"),
    FacilityKind("lainnya", N_("Other child facility"), N_("Other"), None, "place"),
)
KIND_CODES = tuple(k.code for k in KINDS)
_BY_CODE = {k.code: k for k in KINDS}


def kind(code: str) -> FacilityKind:
    """The kind with this code."""
    return _BY_CODE[code]


def kind_label(code: str) -> str:
    """The untranslated label of a kind (translate it where it is shown)."""
    return _BY_CODE[code].label if code in _BY_CODE else code
