"""Validates an ITK3 message (FHIR STU3 XML) with fhir.resources, an
independent library: the message Bundle parses as STU3 XML (structure, data
types, required elements, no unknown element), and its elements stand in
definition order, which FHIR XML requires and the parser does not check: the
tags of the document in order must equal those of fhir.resources' own
rendering of what it read. Then the ITK3 rules the sender relies on: the
first entry is an ITK-MessageHeader-2 whose focus is an entry in the Bundle.

Reads XML on standard input; prints "ok" with the entries' resource types,
or the reasons, and exits 1 on failure.
"""

import sys

from lxml import etree

from fhir.resources.STU3 import get_fhir_model_class

FHIR = "{http://hl7.org/fhir}"


def tags(root):
    """Every FHIR element's name in document order (the narrative's XHTML left out)."""
    return [
        element.tag[len(FHIR):]
        for element in root.iter()
        if isinstance(element.tag, str) and element.tag.startswith(FHIR)
    ]


def main():
    text = sys.stdin.buffer.read()
    try:
        bundle = get_fhir_model_class("Bundle").model_validate_xml(text)
    except Exception as problem:  # pydantic's ValidationError, lxml's errors
        print(f"INVALID\nBundle: {problem}")
        return 1
    ours = tags(etree.fromstring(text))
    theirs = tags(etree.fromstring(bundle.model_dump_xml()))
    if ours != theirs:
        at = next((i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b), min(len(ours), len(theirs)))
        print(
            "INVALID\nelement order differs from STU3 at element "
            f"{at}: ours {ours[max(0, at - 3):at + 3]}, fhir.resources {theirs[max(0, at - 3):at + 3]}"
        )
        return 1
    problems = []
    header = bundle.entry[0].resource if bundle.entry else None
    if bundle.type != "message":
        problems.append(f"Bundle.type is {bundle.type!r}, not 'message'")
    if header is None or header.get_resource_type() != "MessageHeader":
        problems.append("the first entry is not a MessageHeader")
    else:
        if not any(p.endswith("ITK-MessageHeader-2") for p in (header.meta.profile if header.meta else [])):
            problems.append("the MessageHeader does not claim ITK-MessageHeader-2")
        urls = [entry.fullUrl for entry in bundle.entry]
        focus = header.focus or []
        if not focus or any(f.reference not in urls for f in focus):
            problems.append("MessageHeader.focus does not resolve to an entry")
    if problems:
        print("INVALID\n" + "\n".join(problems))
        return 1
    print("ok " + " ".join(entry.resource.get_resource_type() for entry in bundle.entry))
    return 0


if __name__ == "__main__":
    sys.exit(main())
