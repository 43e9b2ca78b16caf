"""Login use cases, one module per aggregate: `tokens.py` (password login, refresh rotation,
logout, pruning) and `otp.py` (OTP request and verify); what both share is in `common.py`."""
