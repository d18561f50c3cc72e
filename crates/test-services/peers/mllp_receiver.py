"""A clinical system's HL7 v2 receiver for tests: python-hl7's asyncio MLLP
server on loopback. Each message is validated strictly by hl7apy; a valid
one is kept (one .hl7 file each, in the order received) and answered AA, an
invalid one answered AE with the reason. A message whose control id was
already kept is answered AA again and not kept twice (HL7 original mode).

    mllp_receiver.py PORT FOLDER

Prints "ready" when it takes connections; runs until terminated.
"""

import asyncio
import os
import sys

import hl7
import hl7.mllp
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message


def main():
    port, folder = int(sys.argv[1]), sys.argv[2]
    os.makedirs(folder, exist_ok=True)

    def keep(text, control_id):
        kept = sorted(n for n in os.listdir(folder) if n.endswith(".hl7"))
        for name in kept:
            if name.split("-", 1)[1] == control_id + ".hl7":
                return
        path = os.path.join(folder, f"{len(kept) + 1:04}-{control_id}.hl7")
        with open(path + ".part", "w") as out:
            out.write(text)
        os.rename(path + ".part", path)

    async def on_connection(reader, writer):
        try:
            while not writer.is_closing():
                message = await reader.readmessage()
                text = str(message)
                control_id = str(message.segment("MSH")[10])
                try:
                    parse_message(text, validation_level=VALIDATION_LEVEL.STRICT, find_groups=True).validate()
                    keep(text, control_id)
                    ack = message.create_ack(ack_code="AA")
                except Exception as problem:  # hl7apy raises several kinds; each is a refusal here
                    ack = message.create_ack(ack_code="AE")
                    print(f"refused {control_id}: {problem}", file=sys.stderr, flush=True)
                writer.writemessage(ack)
                await writer.drain()
        except asyncio.IncompleteReadError:
            pass
        finally:
            writer.close()

    async def serve():
        server = await hl7.mllp.start_hl7_server(on_connection, host="127.0.0.1", port=port)
        print("ready", flush=True)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
