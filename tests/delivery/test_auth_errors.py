#!/usr/bin/env python3
"""Wrong password and unreachable broker: a clear error, the triggers stay in
the outbox, and they are delivered once the problem is gone. The password is
read from a file, never from the command line."""
import os
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mqtt_harness as h  # noqa: E402


def main():
    with h.BrokerRun("auth") as run:
        tmp = run.tmp
        broker = run.start_broker(users={"gw": "right-secret", "backend": "b"})
        db = tmp("gw.db")
        wrong = tmp("wrong.pw")
        with open(wrong, "w") as f:
            f.write("not-the-secret\n")
        os.chmod(wrong, 0o600)
        right = tmp("right.pw")
        with open(right, "w") as f:
            f.write("right-secret\n")
        os.chmod(right, 0o600)

        rc, out, err = h.run_driver(db, broker.port, "--count", "8", "--rate", "100",
                                    "--seconds", "2.5", mqtt__username="gw",
                                    mqtt__password_file=wrong)
        h.need(rc == 0, "driver exit %d: %s" % (rc, err))
        h.need("refused the connection" in err and
               ("not authorised" in err.lower() or "not authorized" in err.lower() or
                "bad user name or password" in err.lower()),
               "no clear wrong-password error:\n" + err)
        h.need("password_file" in err, "error does not point at password_file:\n" + err)
        h.need("not-the-secret" not in err + out, "the password appeared in the output")
        st = h.driver_stats(out)
        h.need(st["committed"] == 8 and st["sent"] == 0 and st["depth"] == 8,
               "wrong password: %s" % st)

        # Nobody listening at all.
        rc, out, err = h.run_driver(db, h.free_port(), "--count", "2", "--rate", "100",
                                    "--seconds", "1.5")
        h.need("unreachable" in err and "Connection refused" in err,
               "no clear unreachable error:\n" + err)
        st = h.driver_stats(out)
        h.need(st["depth"] == 10, "unreachable: %s" % st)

        # A missing password file is a configuration error, not a crash.
        rc, out, err = h.run_driver(db, broker.port, "--seconds", "1", mqtt__username="gw",
                                    mqtt__password_file=tmp("nope.pw"))
        h.need(rc == 78 and "nope.pw" in err, "missing password file: %d %s" % (rc, err))

        sub = run.subscribe([h.PREFIX + "/+/+/trigger"], client_id="auth-sub",
                            auth=("backend", "b"))
        rc, out, err = h.run_driver(db, broker.port, "--until-done", mqtt__username="gw",
                                    mqtt__password_file=right)
        h.need(rc == 0 and "done" in out.splitlines(), "right password:\n" + err)
        h.wait_for(lambda: len(sub.received()) >= 10, 10)
        got = sub.received()
        h.need(len(got) == 10, "expected the 10 queued triggers, got %d" % len(got))
        for m in got:
            h.validate(m.payload, "trigger.schema.json")
        print("ok: wrong password / unreachable reported clearly; 10 queued triggers "
              "delivered afterwards")


if __name__ == "__main__":
    main()
