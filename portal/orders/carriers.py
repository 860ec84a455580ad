"""Carriers and their public tracking pages.

``carrier`` on an order is either a known code below (shown with its name and a link to its
tracking page) or any other text, shown as given without a link.

To add a carrier (a regional courier, a shop's own fleet), add one line to ``CARRIERS``, or
call :func:`register_carrier` at start-up (for example from a small plugin module)::

    register_carrier("hepsijet", "HepsiJet", "https://www.hepsijet.com/gonderi-takibi/{number}")

``{number}`` is replaced by the tracking number, URL-encoded. Templates must be ``https://``.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class Carrier:
    code: str
    name: str
    url_template: str

    def tracking_url(self, number: str) -> str | None:
        if not number:
            return None
        return self.url_template.replace("{number}", quote(number.strip(), safe=""))


CARRIERS: dict[str, Carrier] = {
    c.code: c
    for c in (
        Carrier("yurtici", "Yurtiçi Kargo",
                "https://www.yurticikargo.com/tr/online-servisler/gonderi-sorgula?code={number}"),
        Carrier("aras", "Aras Kargo", "https://kargotakip.araskargo.com.tr/mainpage.aspx?code={number}"),
        Carrier("mng", "MNG Kargo", "https://www.mngkargo.com.tr/gonderi-takip?code={number}"),
        Carrier("ptt", "PTT Kargo", "https://gonderitakip.ptt.gov.tr/Track/Verify?q={number}"),
        Carrier("surat", "Sürat Kargo", "https://www.suratkargo.com.tr/KargoTakip/?kargotakipno={number}"),
        Carrier("ups", "UPS", "https://www.ups.com/track?tracknum={number}"),
        Carrier("dhl", "DHL", "https://www.dhl.com/tr-tr/home/tracking.html?tracking-id={number}"),
    )
}


def register_carrier(code: str, name: str, url_template: str) -> Carrier:
    """Add (or replace) a carrier with its tracking-page template."""
    if not url_template.startswith("https://") or "{number}" not in url_template:
        raise ValueError("a tracking URL template is an https:// URL containing {number}")
    carrier = Carrier(code.strip().lower(), name, url_template)
    CARRIERS[carrier.code] = carrier
    return carrier


def normalize(value: str) -> str:
    """A known carrier's code whatever its case (``Yurtiçi Kargo`` → ``yurtici``); else as given."""
    text = value.strip()
    if not text:
        return ""
    folded = _fold(text)
    for carrier in CARRIERS.values():
        if folded in (carrier.code, _fold(carrier.name), _fold(carrier.name.split()[0])):
            return carrier.code
    return text


def _fold(text: str) -> str:
    from portal.i18n import search_fold

    return search_fold(text).replace(" ", "")


def display_name(code: str) -> str:
    carrier = CARRIERS.get(code)
    return carrier.name if carrier else code


def tracking_url(code: str, number: str) -> str | None:
    """The carrier's tracking page for ``number``; ``None`` for an unknown carrier or no number."""
    carrier = CARRIERS.get(code)
    return carrier.tracking_url(number) if carrier else None
