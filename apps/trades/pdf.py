"""The trade confirmation as a PDF (ReportLab): both parties with their bill-to, ship-to and
ship-from, the goods, quantity and price, the terms, and the GST lines."""

from __future__ import annotations

from html import escape
from io import BytesIO
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from apps.trades.models import Trade


def _address(snapshot: dict[str, Any]) -> str:
    if not snapshot:
        return "(to be selected)"
    parts = [snapshot.get("name", ""), snapshot.get("address_line1", ""), snapshot.get("city", "")]
    line = ", ".join(p for p in parts if p)
    state = snapshot.get("state_code", "")
    gstin = snapshot.get("gstin", "")
    return escape(f"{line} (state {state}){f', GSTIN {gstin}' if gstin else ''}")


def _party(snapshot: dict[str, Any]) -> str:
    gstin = snapshot.get("gstin") or "-"
    return escape(
        f"{snapshot.get('legal_name', '')} ({snapshot.get('code', '')}), GSTIN {gstin}, PAN {snapshot.get('pan') or '-'}"
    )


def _table(rows: list[list[str]], widths: list[float]) -> Table:
    table = Table(rows, colWidths=widths)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("FONTSIZE", (0, 0), (-1, -1), 8.5),
            ]
        )
    )
    return table


def trade_confirmation_pdf(trade: Trade) -> bytes:
    styles = getSampleStyleSheet()
    body = styles["BodyText"]
    buffer = BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, title=f"Trade confirmation {trade.number}", pageCompression=0)
    goods = trade.goods_snapshot
    terms = trade.terms_snapshot
    payment = terms.get("payment_term") or {}
    wide = [45 * mm, 130 * mm]
    story: list[Any] = [
        Paragraph(f"Trade confirmation {trade.number}", styles["Title"]),
        Paragraph(f"Status: {trade.get_status_display()} &middot; Date: {trade.created_at:%d %b %Y}", body),
        Spacer(1, 6 * mm),
        Paragraph("Parties", styles["Heading2"]),
        _table(
            [
                ["Seller", Paragraph(_party(trade.seller_snapshot), body)],
                ["Ship from", Paragraph(_address(trade.ship_from), body)],
                ["Buyer", Paragraph(_party(trade.buyer_snapshot), body)],
                ["Bill to", Paragraph(_address(trade.bill_to), body)],
                ["Ship to", Paragraph(_address(trade.ship_to), body)],
            ],
            wide,
        ),
        Paragraph("Goods and price", styles["Heading2"]),
        _table(
            [
                [
                    "Commodity",
                    f"{goods.get('commodity_name', '')} ({goods.get('commodity_code', '')}), HSN {goods.get('hsn_code', '')}",
                ],
                ["Variety", goods.get("variety") or "-"],
                [
                    "Quantity",
                    f"{trade.quantity} {trade.quantity_unit.code} = {trade.quantity_kg} kg "
                    f"(factor {trade.quantity_unit_factor.normalize():f} kg)",
                ],
                ["Price", f"{trade.currency} {trade.price} per {trade.price_unit.code} ({trade.price_per_kg} per kg)"],
                ["Quality", ", ".join(f"{k} {v}" for k, v in sorted(trade.quality.items())) or "-"],
            ],
            wide,
        ),
        Paragraph("Terms", styles["Heading2"]),
        _table(
            [
                [
                    "Delivery",
                    f"{trade.delivery_from:%d %b %Y} to {trade.delivery_until:%d %b %Y}, {terms.get('delivery_term') or '-'}",
                ],
                ["Payment", payment.get("name") or "-"],
                ["Trade type", terms.get("trade_type") or "-"],
                ["Commission", f"{trade.currency} {trade.commission_amount}"],
            ],
            wide,
        ),
        Paragraph("Value and GST", styles["Heading2"]),
        _table(
            [
                ["Taxable amount", f"{trade.currency} {trade.amount}"],
                ["CGST", f"{trade.cgst_rate}% = {trade.cgst_amount}"],
                ["SGST", f"{trade.sgst_rate}% = {trade.sgst_amount}"],
                ["IGST", f"{trade.igst_rate}% = {trade.igst_amount}"],
                ["Total", f"{trade.currency} {trade.total_amount}"],
                ["Place of supply", trade.place_of_supply or "-"],
                ["Reverse charge", "Yes (seller is an agriculturist)" if trade.reverse_charge else "No"],
            ],
            wide,
        ),
    ]
    document.build(story)
    return buffer.getvalue()
