"""IAM: users, roles, managed and inline policies, instance profiles, access keys (stored, not enforced)."""
