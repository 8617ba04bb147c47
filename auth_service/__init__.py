"""Auth service: users, roles, tokens, MFA, e-signature checks (issue 3; in progress)."""
