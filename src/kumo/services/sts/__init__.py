"""STS: caller identity and working temporary credentials."""
