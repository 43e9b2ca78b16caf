"""Event types of risk (SPEC section 12)."""

ASSESSMENT_RECORDED = "risk.assessment.recorded"
EXPOSURE_ALERT = "risk.exposure.alert"
CREDIT_LIMIT_CHANGED = "risk.credit_limit.changed"
