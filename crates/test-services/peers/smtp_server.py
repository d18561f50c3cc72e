"""A submission server like NHSmail's, for tests: aiosmtpd on loopback with
STARTTLS required before AUTH LOGIN/PLAIN, one account, and MAIL FROM
refused unless it is that account. Each accepted message is written to the
folder given, one .eml file each, named in the order received.

    smtp_server.py PORT CERT KEY ACCOUNT PASSWORD FOLDER

Prints "ready" when it takes connections; runs until terminated.
"""

import asyncio
import os
import signal
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def main():
    port, cert, key, account, password, folder = sys.argv[1:7]
    os.makedirs(folder, exist_ok=True)

    def authenticator(server, session, envelope, mechanism, auth_data):
        good = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == account
            and auth_data.password.decode() == password
        )
        return AuthResult(success=good, handled=False, auth_data=account if good else None)

    class Handler:
        async def handle_MAIL(self, server, session, envelope, address, mail_options):
            if address != session.auth_data:
                return "553 5.7.1 The sender must be the account that logged in"
            envelope.mail_from = address
            envelope.mail_options.extend(mail_options)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            count = len([n for n in os.listdir(folder) if n.endswith(".eml")])
            path = os.path.join(folder, f"{count + 1:04}.eml")
            with open(path + ".part", "wb") as out:
                out.write(envelope.original_content)
            os.rename(path + ".part", path)
            return "250 2.0.0 Accepted as " + os.path.basename(path)

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=int(port),
        tls_context=context,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=True,
    )
    controller.start()
    print("ready", flush=True)
    try:
        signal.sigwait({signal.SIGTERM, signal.SIGINT})
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
