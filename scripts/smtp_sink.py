"""A local SMTP server and a DKIM verifier for tests/tests/smtp_dkim.rs (aiosmtpd, dkimpy).

  smtp_sink.py serve PORT DIR     accept mail on 127.0.0.1:PORT, one DIR/NNNN.eml per message;
                                  RCPT to bounce*@ is refused for good (550 5.1.1), busy*@
                                  once for now (451 4.3.0); prints "ready" when listening
  smtp_sink.py verify FILE P      DKIM-verify FILE with the public key P (base64, k= from
                                  the signature), no DNS; prints the signed headers (h=);
                                  exit status 0 only if the signature verifies
"""

import os
import signal
import sys
import threading


def serve(port, maildir):
    from aiosmtpd.controller import Controller

    refused_once = set()

    class Handler:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            local = address.split("@")[0]
            if local.startswith("bounce"):
                return "550 5.1.1 No such user here"
            if local.startswith("busy") and address not in refused_once:
                refused_once.add(address)
                return "451 4.3.0 Try again later"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            n = len(os.listdir(maildir))
            with open(os.path.join(maildir, f"{n:04}.eml"), "wb") as f:
                f.write(envelope.original_content)
            return "250 Message accepted"

    controller = Controller(Handler(), hostname="127.0.0.1", port=int(port))
    controller.start()
    print("ready", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    controller.stop()


def verify(path, public_key):
    import email

    import dkim

    with open(path, "rb") as f:
        message = f.read()
    raw = email.message_from_bytes(message).get("DKIM-Signature", "")
    tags = dict(p.split("=", 1) for p in "".join(str(raw).split()).split(";") if "=" in p)
    algorithm = tags.get("a", "")
    key_type = "ed25519" if algorithm.startswith("ed25519") else "rsa"
    record = f"v=DKIM1; k={key_type}; p={public_key.strip()}".encode()
    ok = dkim.DKIM(message).verify(dnsfunc=lambda name, timeout=5: record)
    print(f"verified={ok} a={algorithm} h={tags.get('h', '').lower()}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "verify":
        verify(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
