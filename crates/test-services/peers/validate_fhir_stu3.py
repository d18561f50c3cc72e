"""Validates a FHIR STU3 document Bundle with fhir.resources, an independent
library: the Bundle, then every entry's resource against its own STU3 model
(structure, data types, required elements). Reads JSON on standard input;
prints "ok" with the resource types, or the reasons, and exits 1 on failure.
"""

import json
import sys

from fhir.resources.STU3 import get_fhir_model_class


def main():
    document = json.loads(sys.stdin.read())
    problems = []
    try:
        get_fhir_model_class("Bundle").model_validate(document)
    except Exception as problem:  # pydantic's ValidationError, among others
        problems.append(f"Bundle: {problem}")
    kinds = []
    for index, entry in enumerate(document.get("entry", [])):
        resource = entry.get("resource", {})
        kind = resource.get("resourceType", "?")
        kinds.append(kind)
        try:
            get_fhir_model_class(kind).model_validate(resource)
        except Exception as problem:
            problems.append(f"entry {index} ({kind}): {problem}")
    if problems:
        print("INVALID\n" + "\n".join(problems))
        return 1
    print("ok " + " ".join(kinds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
