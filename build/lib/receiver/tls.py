"""The receiver's TLS: a certificate and key given, https:// served; none, plain http."""

from __future__ import annotations

import ssl


def server_context(cert_file: str | None, key_file: str | None) -> ssl.SSLContext | None:
    if cert_file is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_file, key_file)
    return context
