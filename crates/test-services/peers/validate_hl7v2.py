"""Validates HL7 v2 acknowledgements with hl7apy, an independent library.

Reads ER7 messages from standard input, each beginning with MSH (segments
separated by CR or LF), and validates each strictly against its own version
(MSH-12): structure, segments, fields and data types. Prints one line per
message, "ok" or the reasons, and exits 1 if any failed.
"""

import re
import sys

from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message


def messages(text):
    text = text.replace("\r\n", "\r").replace("\n", "\r")
    for part in re.split(r"(?=MSH\|)", text):
        part = part.strip("\r \x0b\x1c")
        if part.startswith("MSH|"):
            yield part


def main():
    failed = 0
    count = 0
    for message in messages(sys.stdin.read()):
        count += 1
        control_id = message.split("\r")[0].split("|")[9] if message.count("|") > 9 else "?"
        try:
            parsed = parse_message(message, validation_level=VALIDATION_LEVEL.STRICT, find_groups=True)
            parsed.validate()
            print(f"ok {control_id}")
        except Exception as problem:  # hl7apy raises several kinds; each is a failure here
            failed += 1
            print(f"INVALID {control_id}: {type(problem).__name__}: {problem}")
    if count == 0:
        print("INVALID: no messages given")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
