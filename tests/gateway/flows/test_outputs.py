"""The XAusländer mapping and the PDF summary of the example forms."""

from __future__ import annotations

import io

import pikepdf
import pytest

from gateway.client.flowdata import summary_pdf, xauslaender
from tests.gateway.flows.conftest import definition, example


def test_the_employment_mapping() -> None:
    out = xauslaender(definition("employment"), example("employment"))
    assert out["format"] == "ozg-flow-xauslaender/1"
    data = out["data"]
    person = data["Antragsteller"]["NatuerlichePerson"]
    assert person["Name"] == {"Familienname": "Y\u0131lmaz", "Vorname": "Ayşe Nur"}
    assert person["Geburt"] == {"Datum": "1994-05-17", "Ort": "İzmir", "Staat": "TUR"}
    assert person["Staatsangehoerigkeit"] == "TUR"
    assert data["Antragsteller"]["Ausweisdokument"]["Nummer"] == "U12345678"
    assert data["Antragsteller"]["Anschrift"]["Postleitzahl"] == "14943"
    assert data["Antragsteller"]["Anschrift"]["Regionalschluessel"] == "120720232232"
    assert data["Aufenthaltsantrag"]["Aufenthaltszweck"] == "Erwerbstaetigkeit"
    job = data["Nebenbestimmung"]["Erwerbstaetigkeit"]["Beschaeftigung"]
    assert job["Arbeitgeber"]["Name"] == "Fläming Solartechnik GmbH"
    assert job["Taetigkeit"] == "Elektroingenieurin"
    assert job["Arbeitszeit"] == 40
    assert "Geburtsname" not in person["Name"]  # absent answers are left out


def test_the_family_mapping_maps_each_member() -> None:
    data = xauslaender(definition("family"), example("family"))["data"]
    members = data["Aufenthaltsantrag"]["Familienangehoerige"]
    assert members == [
        {
            "NatuerlichePerson": {
                "Name": {"Familienname": "Y\u0131lmaz", "Vorname": "Elif"},
                "Geburt": {"Datum": "2019-08-30", "Ort": "İzmir"},
                "Geschlecht": "female",
                "Staatsangehoerigkeit": "TUR",
            },
            "Beziehung": "child",
            "Ausweisdokument": {"Nummer": "U87654321"},
        }
    ]
    assert data["Aufenthaltsantrag"]["Bezugsperson"]["Aufenthaltsstatus"] == "blue_card"


def test_every_mapping_marks_its_unconfirmed_parts(flow_id: str) -> None:
    mapping = definition(flow_id).xauslaender
    assert mapping["unconfirmed"]
    assert any(entry.get("unconfirmed") for entry in mapping["mappings"])
    assert xauslaender(definition(flow_id), example(flow_id))["data"]["Antragsteller"]


def _page_text(pdf: bytes) -> str:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        return "\n".join(page.Contents.read_bytes().decode("cp1252") for page in doc.pages)


@pytest.mark.parametrize(
    ("lang", "headings", "values"),
    [
        (
            "de",
            [
                "Antrag: Aufenthaltserlaubnis zur Beschäftigung",
                "Angaben zur Person",
                "Pass",
                "Beschäftigung",
                "Beigefügte Dokumente",
            ],
            [
                "Familienname: Yilmaz",
                "Vornamen: Ayse Nur",
                "Staatsangehörigkeit: Türkei",
                "Geschlecht: weiblich",
                "Mein Abschluss ist in Deutschland anerkannt.: Ja",
                "Pass \\(alle Seiten mit Eintragungen\\): reisepass.pdf",
            ],
        ),
        (
            "en",
            [
                "Application: residence permit for employment",
                "Personal details",
                "Passport",
                "Employment",
                "Attached documents",
            ],
            [
                "Nationality: Türkiye",
                "Sex: female",
                "Weekly working hours: 40",
                "Biometric photo: foto.jpg",
            ],
        ),
    ],
)
def test_the_summary_pdf_opens_and_shows_the_layout(
    lang: str, headings: list[str], values: list[str]
) -> None:
    attachments = [("passport", "reisepass.pdf"), ("biometric_photo", "foto.jpg")]
    pdf = summary_pdf(definition("employment"), example("employment"), lang, attachments)
    assert pdf.startswith(b"%PDF-1.7")
    text = _page_text(pdf)
    for expected in headings + values:
        assert f"({expected})" in text or expected in text, expected
    assert pdf == summary_pdf(definition("employment"), example("employment"), lang, attachments)


def test_every_summary_renders_and_long_forms_get_more_pages(flow_id: str) -> None:
    pdf = summary_pdf(definition(flow_id), example(flow_id), "de")
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        assert len(doc.pages) >= 1
        assert str(doc.docinfo["/Title"]).startswith("Antrag: ")
    data = example("family")
    data["family_members"] = data["family_members"] * 12
    with pikepdf.open(io.BytesIO(summary_pdf(definition("family"), data, "en"))) as doc:
        assert len(doc.pages) >= 2
