"""Reads a MESH mailbox with NHS England's own client (mesh-client), an
independent peer: each message's id, workflow, local id and body, as JSON.

    mesh_inbox.py URL MAILBOX PASSWORD SHARED_KEY
"""

import json
import sys

from mesh_client import MeshClient

from mesh_tls import tls_options


def main():
    url, mailbox, password, shared_key = sys.argv[1:5]
    found = []
    with MeshClient(url, mailbox, password, shared_key=shared_key.encode(), **tls_options()) as client:
        for message_id in client.list_messages():
            message = client.retrieve_message(message_id)
            found.append(
                {
                    "id": message_id,
                    "workflow": message.workflow_id,
                    "local_id": message.local_id,
                    "sender": message.sender,
                    "body": message.read().decode("utf-8", "replace"),
                }
            )
    print(json.dumps(found))


if __name__ == "__main__":
    main()
