"""How the MESH peers reach a sandbox served over TLS: the client certificate,
its key and the test CA from the environment (MESH_CLIENT_CERT, MESH_CLIENT_KEY,
MESH_CA), or, for a plain-HTTP sandbox, no TLS at all."""

import os


def tls_options():
    certificate, key, ca = (os.environ.get(name) for name in ("MESH_CLIENT_CERT", "MESH_CLIENT_KEY", "MESH_CA"))
    if certificate and key and ca:
        return {"cert": (certificate, key), "verify": ca}
    return {"verify": False}
