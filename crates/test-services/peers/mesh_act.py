"""Acts at a MESH sandbox as the far end would, for tests.

    mesh_act.py URL acknowledge MAILBOX PASSWORD SHARED_KEY MESSAGE_ID
        the recipient downloads the message and acknowledges it (mesh-client)
    mesh_act.py URL undeliverable MESSAGE_ID DESCRIPTION
        MESH marks the message undeliverable (the sandbox's admin event)
"""

import json
import sys
import urllib.request

from mesh_client import MeshClient

from mesh_tls import tls_options


def main():
    url, action = sys.argv[1:3]
    if action == "acknowledge":
        mailbox, password, shared_key, message_id = sys.argv[3:7]
        with MeshClient(url, mailbox, password, shared_key=shared_key.encode(), **tls_options()) as client:
            client.retrieve_message(message_id).read()
            client.acknowledge_message(message_id)
    elif action == "undeliverable":
        message_id, description = sys.argv[3:5]
        body = json.dumps({"status": "undeliverable", "code": "14", "description": description}).encode()
        request = urllib.request.Request(
            f"{url}/messageexchange/admin/message/{message_id}/event",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(request).read()
    else:
        raise SystemExit(f"unknown action {action}")


if __name__ == "__main__":
    main()
