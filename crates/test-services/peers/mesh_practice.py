"""A GP practice's system at a MESH sandbox, for tests: it takes our ITK3
message with NHS England's mesh-client, reads it with fhir.resources (STU3
XML), and answers as ITK3 asks: an ITK3 Response (event ITK008M) per code,
each naming our MessageHeader id in response.identifier, built with
fhir.resources and sent back to the sending mailbox on the workflow's _ACK.

    mesh_practice.py URL respond MAILBOX PASSWORD SHARED_KEY MESSAGE_ID CODE [CODE ...]
        CODE is an ITK3 response code: 20013 (success), 20009 (payload
        validation failure), 30001 (patient known), 30002 (patient not known)
    mesh_practice.py URL junk MAILBOX PASSWORD SHARED_KEY TO WORKFLOW
        sends a message on WORKFLOW that is not an ITK3 response
    mesh_practice.py URL answer-for MAILBOX PASSWORD SHARED_KEY TO WORKFLOW ANSWERED CODE
        sends an ITK3 Response naming the MessageHeader id ANSWERED, from a
        mailbox that never received that message

Prints, as JSON, the MessageHeader id it answered and what it sent.
"""

import json
import sys
import uuid
from datetime import datetime, timezone

from mesh_client import MeshClient

from fhir.resources.STU3 import get_fhir_model_class

from mesh_tls import tls_options

CODES = {
    "20013": ("ok", "information", "informational", "Success"),
    "20009": ("fatal-error", "fatal", "invalid", "Payload validation failure"),
    "30001": ("ok", "information", "informational", "Patient known here"),
    "30002": ("ok", "error", "not-found", "Patient not known here"),
}


def response_bundle(answered, our_mailbox, code):
    outcome, severity, issue_type, display = CODES[code]
    header_id, outcome_id, bundle_id = (str(uuid.uuid4()) for _ in range(3))
    Bundle = get_fhir_model_class("Bundle")
    return Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "id": bundle_id,
            "meta": {"profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Message-Bundle-1"]},
            "type": "message",
            "entry": [
                {
                    "fullUrl": f"urn:uuid:{header_id}",
                    "resource": {
                        "resourceType": "MessageHeader",
                        "id": header_id,
                        "event": {
                            "system": "https://fhir.nhs.uk/STU3/CodeSystem/ITK-MessageEvent-2",
                            "code": "ITK008M",
                            "display": "ITK Response",
                        },
                        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                        "source": {"endpoint": our_mailbox},
                        "response": {
                            "identifier": answered,
                            "code": outcome,
                            "details": {"reference": f"urn:uuid:{outcome_id}"},
                        },
                    },
                },
                {
                    "fullUrl": f"urn:uuid:{outcome_id}",
                    "resource": {
                        "resourceType": "OperationOutcome",
                        "id": outcome_id,
                        "issue": [
                            {
                                "severity": severity,
                                "code": issue_type,
                                "details": {
                                    "coding": [
                                        {
                                            "system": "https://fhir.nhs.uk/STU3/CodeSystem/ITK-ResponseCodes-1",
                                            "code": code,
                                            "display": display,
                                        }
                                    ]
                                },
                            }
                        ],
                    },
                },
            ],
        }
    ).model_dump_xml()


def main():
    url, action, mailbox, password, shared_key = sys.argv[1:6]
    with MeshClient(url, mailbox, password, shared_key=shared_key.encode(), **tls_options()) as client:
        if action == "respond":
            message_id, codes = sys.argv[6], sys.argv[7:]
            message = client.retrieve_message(message_id)
            sender, workflow = message.sender, message.workflow_id
            bundle = get_fhir_model_class("Bundle").model_validate_xml(message.read())
            header = bundle.entry[0].resource
            sent = []
            for code in codes:
                client.send_message(
                    sender,
                    response_bundle(header.id, mailbox, code),
                    workflow_id=f"{workflow}_ACK",
                    subject="ITK3 Response",
                )
                sent.append(code)
            client.acknowledge_message(message_id)
            print(json.dumps({"answered": header.id, "sent": sent}))
        elif action == "answer-for":
            to, workflow, answered, code = sys.argv[6:10]
            client.send_message(to, response_bundle(answered, mailbox, code), workflow_id=workflow, subject="ITK3 Response")
            print(json.dumps({"answered": answered, "sent": [code]}))
        elif action == "junk":
            to, workflow = sys.argv[6:8]
            client.send_message(to, b"<not-itk/>", workflow_id=workflow, subject="not a response")
            print(json.dumps({"sent": "junk"}))
        else:
            raise SystemExit(f"unknown action {action}")


if __name__ == "__main__":
    main()
