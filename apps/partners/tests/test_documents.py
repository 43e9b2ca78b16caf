from apps.partners.documents import required_documents, sniff_content_type
from apps.partners.tests.factories import NOT_A_PDF, TINY_JPEG, TINY_PDF, TINY_PNG


def test_content_types_are_recognised_by_their_bytes() -> None:
    assert sniff_content_type(TINY_PDF) == "application/pdf"
    assert sniff_content_type(TINY_PNG) == "image/png"
    assert sniff_content_type(TINY_JPEG) == "image/jpeg"
    assert sniff_content_type(NOT_A_PDF) is None
    assert sniff_content_type(b"GIF89a") is None


def _required(**kwargs: object) -> list[str]:
    base: dict[str, object] = {
        "entity_class": "BUSINESS_ENTITY",
        "business_type": "PRIVATE_LIMITED",
        "service_type": "",
        "imports_or_exports": False,
        "owns_lorries": False,
        "gstin": "X",
    }
    base.update(kwargs)
    return required_documents(**base)  # type: ignore[arg-type]


def test_required_documents_per_entity() -> None:
    assert _required() == ["GST_CERTIFICATE", "PAN_CARD", "CANCELLED_CHEQUE"]
    assert _required(imports_or_exports=True) == ["GST_CERTIFICATE", "PAN_CARD", "CANCELLED_CHEQUE", "IEC"]
    assert _required(business_type="FOREIGN_ENTITY") == ["FOREIGN_TAX_ID", "TRADE_LICENCE"]
    assert _required(entity_class="SERVICE_PROVIDER", service_type="BROKER", gstin="") == ["PAN_CARD"]
    assert _required(entity_class="SERVICE_PROVIDER", service_type="BROKER") == ["PAN_CARD", "GST_CERTIFICATE"]
    assert _required(entity_class="SERVICE_PROVIDER", service_type="TRANSPORTER", owns_lorries=True, gstin="") == [
        "PAN_CARD",
        "RC",
        "INSURANCE",
        "FITNESS",
        "PERMIT",
    ]
