"""ACM: imported and kumo-issued (self-signed) certificates, and their material for kumo's TLS listeners."""
