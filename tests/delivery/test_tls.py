#!/usr/bin/env python3
"""TLS: a broker with a test CA requiring client certificates. The gateway
verifies the broker (CA + host name) and presents its own certificate; with
the wrong CA it fails with a clear error, keeps the triggers in the outbox,
and delivers them once the configuration is fixed."""
import os
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mqtt_harness as h  # noqa: E402


def main():
    with h.BrokerRun("tls") as run:
        tmp = run.tmp
        ca = h.make_ca(tmp, "ca")
        other_ca = h.make_ca(tmp, "other")
        srv_key, srv_crt = h.make_cert(tmp, ca, "server", server=True)
        cli_key, cli_crt = h.make_cert(tmp, ca, "gateway", server=False)
        sub_key, sub_crt = h.make_cert(tmp, ca, "backend", server=False)
        broker = run.start_broker(tls={"ca": ca[1], "cert": srv_crt, "key": srv_key,
                                       "require_cert": True})
        db = tmp("gw.db")
        sub = run.subscribe([h.PREFIX + "/#"],
                            tls={"ca": ca[1], "cert": sub_crt, "key": sub_key})

        # Wrong CA: the broker's certificate does not verify.
        rc, out, err = h.run_driver(db, broker.port, "--count", "10", "--rate", "100",
                                    "--seconds", "3", mqtt__cafile=other_ca[1],
                                    mqtt__certfile=cli_crt, mqtt__keyfile=cli_key)
        h.need(rc == 0, "driver exit %d: %s" % (rc, err))
        h.need("TLS handshake failed" in err and "certificate verify failed" in err,
               "no clear TLS error:\n" + err)
        st = h.driver_stats(out)
        h.need(st["committed"] == 10 and st["sent"] == 0 and st["depth"] == 10,
               "wrong CA: %s" % st)
        h.need(not sub.received("trigger"), "a trigger went out over an unverified link")

        # No client certificate: the broker refuses us.
        rc, out, err = h.run_driver(db, broker.port, "--seconds", "2", mqtt__cafile=ca[1])
        st = h.driver_stats(out)
        h.need(st["sent"] == 0 and st["depth"] == 10, "no client cert: %s" % st)

        # Right CA and client certificate: the queued triggers go out.
        rc, out, err = h.run_driver(db, broker.port, "--count", "5", "--rate", "100",
                                    "--until-done", mqtt__cafile=ca[1],
                                    mqtt__certfile=cli_crt, mqtt__keyfile=cli_key)
        h.need(rc == 0 and "done" in out.splitlines(), "TLS delivery failed:\n" + err)
        h.need("TLS" in err, "connect log line does not mention TLS:\n" + err)
        h.need(h.wait_for(lambda: len(sub.received("trigger")) >= 15, 10),
               "only %d triggers over TLS" % len(sub.received("trigger")))
        for m in sub.received("trigger"):
            h.check_trigger_props(m)
            h.validate(m.payload, "trigger.schema.json")
        for m in sub.received("status"):
            h.validate(m.payload, "status.schema.json")
        print("ok: TLS with client certificate; wrong CA refused clearly, nothing lost")


if __name__ == "__main__":
    main()
