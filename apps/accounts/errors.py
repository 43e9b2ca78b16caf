from apps.core.errors import DomainError, RateLimited


class InvalidMobile(DomainError):
    code = "invalid_mobile"
    default_detail = "Enter a mobile number in E.164 form (+919876543210) or a 10-digit Indian number."


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    status = 401
    default_detail = "The e-mail or password is incorrect."


class PasswordLoginNotAllowed(DomainError):
    code = "password_login_not_allowed"
    status = 403
    default_detail = "Partner users sign in with a one-time code sent to their mobile."


class OtpLoginNotAllowed(DomainError):
    code = "otp_login_not_allowed"
    status = 403
    default_detail = "Staff sign in with e-mail and password."


class AccountDisabled(DomainError):
    code = "account_disabled"
    status = 403
    default_detail = "This account is disabled."


class OrganizationRequired(DomainError):
    code = "organization_required"
    default_detail = "This number is not registered: name the organization you are applying to (organization_code)."


class UnknownOrganization(DomainError):
    code = "unknown_organization"
    default_detail = "No active organization has this code."


class OtpInvalid(DomainError):
    code = "otp_invalid"
    default_detail = "The code is incorrect."


class OtpExpired(DomainError):
    code = "otp_expired"
    default_detail = "The code has expired or was never sent; request a new one."


class OtpAttemptsExceeded(DomainError):
    code = "otp_attempts_exceeded"
    default_detail = "Too many wrong tries for this code; request a new one."


class OtpSendLimited(RateLimited):
    code = "otp_send_limited"
    default_detail = "Too many codes were sent to this number; wait before asking again."


class LoginLocked(RateLimited):
    code = "login_locked"
    default_detail = "Too many failed sign-in attempts; try again later."


class SmsUnavailable(DomainError):
    code = "sms_unavailable"
    status = 503
    default_detail = "The SMS gateway is unavailable; try again shortly."


class InvalidToken(DomainError):
    code = "token_not_valid"
    status = 401
    default_detail = "The token is invalid, expired or already used."


class RefreshTokenRequired(DomainError):
    code = "refresh_token_required"
    default_detail = "Send the refresh token of the session to end, or all=true to end every session."
