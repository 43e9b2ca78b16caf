from django.urls import path, register_converter

from apps.commodities.api import views
from apps.commodities.models import TermKind


class TermKindConverter:
    """`trade-type`, `bargain-type`, `passing`, `weightment`, `delivery`, `payment` <-> TermKind.
    Any other kind is not a URL of ours (404)."""

    regex = "|".join(sorted(views.TERM_KIND_SLUGS.values(), key=len, reverse=True))

    def to_python(self, value: str) -> str:
        return TermKind(value.upper().replace("-", "_")).value

    def to_url(self, value: str) -> str:
        return views.TERM_KIND_SLUGS[value]


register_converter(TermKindConverter, "commodities_term_kind")

C = "commodities/<uuid:commodity_id>"

urlpatterns = [
    path("units/", views.UnitListApi.as_view(), name="units"),
    path("commodities/", views.CommodityCollectionApi.as_view(), name="commodities"),
    path(f"{C}/", views.CommodityDetailApi.as_view(), name="commodity"),
    path(f"{C}/varieties/", views.VarietyCollectionApi.as_view(), name="commodity-varieties"),
    path(f"{C}/varieties/<uuid:variety_id>/", views.VarietyDetailApi.as_view(), name="commodity-variety"),
    path(f"{C}/parameters/", views.ParameterCollectionApi.as_view(), name="commodity-parameters"),
    path(f"{C}/parameters/<uuid:parameter_id>/", views.ParameterDetailApi.as_view(), name="commodity-parameter"),
    path(f"{C}/schedules/", views.ScheduleCollectionApi.as_view(), name="commodity-schedules"),
    path(f"{C}/schedules/<uuid:schedule_id>/", views.ScheduleRetrieveApi.as_view(), name="commodity-schedule"),
    path(
        f"{C}/schedules/<uuid:schedule_id>/activate",
        views.ScheduleActivateApi.as_view(),
        name="commodity-schedule-activate",
    ),
    path(
        f"{C}/schedules/<uuid:schedule_id>/price-adjustment",
        views.PriceAdjustmentApi.as_view(),
        name="commodity-schedule-price-adjustment",
    ),
    path(f"{C}/conversions", views.ConversionApi.as_view(), name="commodity-conversions"),
    path(f"{C}/commissions/", views.CommissionCollectionApi.as_view(), name="commodity-commissions"),
    path(f"{C}/commissions/<uuid:commission_id>/", views.CommissionDetailApi.as_view(), name="commodity-commission"),
    path("terms/<commodities_term_kind:kind>/", views.TermCollectionApi.as_view(), name="terms"),
    path("terms/<commodities_term_kind:kind>/<uuid:term_id>/", views.TermDetailApi.as_view(), name="term"),
    path(
        "terms/<commodities_term_kind:kind>/<uuid:term_id>/deactivate",
        views.TermDeactivateApi.as_view(),
        name="term-deactivate",
    ),
]
