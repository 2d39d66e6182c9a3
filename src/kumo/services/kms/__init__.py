"""KMS: symmetric (AES-256-GCM) and asymmetric (RSA, ECC) keys whose material lives in kumo's store."""


def setup(kumo):
    return None
