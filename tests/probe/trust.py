#!/usr/bin/env python3
"""The outside probe of issue 9 (trust), repeated against a real `jiesu serve`.

Starts the given jiesu binary on a free port over a fresh store (SQLite, and PostgreSQL when
DATABASE_URL is set), makes users and keys with the CLI, and acts as an attacker and a careless
client would. Each probe is named after the defect it once found; every one must pass.

Usage: trust.py PATH/TO/jiesu
"""

import concurrent.futures
import json
import os
import re
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.parse
import xml.etree.ElementTree as ET

import requests

PASSWORD = "探针 probe password 1"
RESULTS = {"passed": 0, "failed": 0}
FAILURES = []


def check(cond, what):
    if cond:
        RESULTS["passed"] += 1
    else:
        RESULTS["failed"] += 1
        FAILURES.append(what)
        print(f"  FAIL: {what}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary, db, workdir, env):
        self.binary, self.db, self.env = binary, db, env
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(workdir, f"serve-{self.port}.log"), "w")
        self.proc = subprocess.Popen(
            [binary, "serve", "--db", db, "--addr", f"127.0.0.1:{self.port}", "--demo-cases", "300"],
            stdout=self.log, stderr=subprocess.STDOUT, env=env,
        )
        for _ in range(900):
            if self.proc.poll() is not None:
                raise SystemExit(f"jiesu serve exited with {self.proc.returncode}; see {self.log.name}")
            try:
                if requests.get(f"{self.base}/api/v1/health", timeout=1).ok:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        raise SystemExit("jiesu serve did not answer within 180 s")

    def cli(self, *args, stdin=None):
        out = subprocess.run([self.binary, *args, "--db", self.db], input=stdin, capture_output=True,
                             text=True, env=self.env)
        if out.returncode not in (0, 3):
            raise SystemExit(f"jiesu {' '.join(args)} failed: {out.stderr}")
        return out

    def user(self, name, role, unit=None):
        args = ["user", "add", "--name", name, "--role", role, "--password", PASSWORD]
        if unit:
            args += ["--unit", unit]
        self.cli(*args)
        s = requests.Session()
        r = s.post(f"{self.base}/api/v1/login", json={"name": name, "password": PASSWORD})
        assert r.ok, r.text
        return s

    def key(self, name, role="citizen", unit=None):
        args = ["key", "add", "--name", name, "--role", role]
        if unit:
            args += ["--unit", unit]
        secret = self.cli(*args).stdout.strip().splitlines()[-1]
        s = requests.Session()
        s.headers["X-Api-Key"] = secret
        s.secret = secret
        return s

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()


def new_case(session, base, text, **extra):
    body = {"channel": "hotline", "kind": "complaint", "text": text, "category": "0101",
            "place": {"street": "110101009"}}
    body.update(extra)
    r = session.post(f"{base}/api/v1/cases", json=body)
    assert r.status_code in (200, 201), r.text
    return r.json()["id"]


def act(session, base, case, action, **fields):
    return session.post(f"{base}/api/v1/cases/{case}/actions", json={"action": action, **fields})


def probe_merge_race(srv, op1, op2):
    """1. Two operators merging A→B and B→A at once never leave both merged."""
    both = 0
    for _ in range(10):
        a = new_case(op1, srv.base, "东四十条路边有人占道经营")
        b = new_case(op1, srv.base, "东四十条路边有人占道经营，又来了")
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            f1 = pool.submit(act, op1, srv.base, a, "merge", into=b)
            f2 = pool.submit(act, op2, srv.base, b, "merge", into=a)
            f1.result(), f2.result()
        sa = op1.get(f"{srv.base}/api/v1/cases/{a}").json()["status"]
        sb = op1.get(f"{srv.base}/api/v1/cases/{b}").json()["status"]
        both += sa == "merged" and sb == "merged"
    check(both == 0, f"merge race: both cases merged into each other in {both} of 10 trials")


def closed_case(srv, staff):
    r = staff.get(f"{srv.base}/api/v1/cases", params={"status": "closed", "limit": 5})
    return r.json()["cases"][0]["id"]


def probe_foreign_reopen(srv, staff):
    """2. An Open311 key cannot reopen a case it never filed."""
    key = srv.key("probe-foreign")
    case = closed_case(srv, staff)
    r = requests.post(f"{srv.base}/open311/v2/servicerequestupdates.json",
                      data={"api_key": key.secret, "service_request_id": str(case), "status": "REOPEN",
                            "update_id": f"probe-{case}", "description": "还没修好",
                            "updated_datetime": "2026-11-27T09:00:00+08:00", "first_name": "张", "last_name": "三"})
    check(r.status_code in (403, 404), f"foreign REOPEN answered {r.status_code}: {r.text[:200]}")
    status = staff.get(f"{srv.base}/api/v1/cases/{case}").json()["status"]
    check(status == "closed", f"foreign REOPEN changed the case to {status}")


PII = {
    "138-1234-5678": "1234", "138 1234 5678": "1234", "１３８１２３４５６７８": "１２３４",
    "+86 139 1234 5678": "1234", "010-65123456": "65123456", "zhang.sanfeng@example.com": "zhang.sanfeng",
    "11010519491231002X": "19491231002", "6222020200112233445": "0200112233445", "京A12345": "A12345",
}


def probe_public_pii(srv, key):
    """4. Open311 output (JSON and XML) carries no phone, e-mail, ID, card, plate or name."""
    text = "我叫张三丰，电话 " + "，".join(PII) + "，东四十条路口井盖坏了"
    r = requests.post(f"{srv.base}/open311/v2/requests.json",
                      data={"api_key": key.secret, "service_code": "0101", "address_id": "110101009",
                            "description": text})
    check(r.status_code in (200, 201), f"Open311 POST: {r.status_code} {r.text[:200]}")
    body = r.json()
    rid = body[0].get("service_request_id") if isinstance(body, list) else None
    if not rid:
        token = body[0]["token"]
        rid = requests.get(f"{srv.base}/open311/v2/tokens/{token}.json").json()[0]["service_request_id"]
    for fmt in ("json", "xml"):
        out = requests.get(f"{srv.base}/open311/v2/requests/{rid}.{fmt}").text
        for value, tell in PII.items():
            check(tell not in out, f"requests.{fmt} shows {value!r}")
        check("三丰" not in out, f"requests.{fmt} shows the name 张三丰")
        check("东四十条" in out, f"requests.{fmt} masked a place name")


def probe_suggest_scope(srv, op, handler):
    """5. Duplicate suggestions show a unit handler only cases in its scope."""
    foreign = new_case(op, srv.base, "东直门外大街路边有人占道经营，电话13812345678",
                       place={"street": "110101005", "lat": 39.9406, "lon": 116.4342})
    r = handler.post(f"{srv.base}/api/v1/intake/suggest",
                     json={"text": "东直门外大街路边有人占道经营", "place": {"lat": 39.9406, "lon": 116.4342}})
    check(r.status_code in (200, 403), f"suggest: {r.status_code}")
    check(str(foreign) not in json.dumps(r.json().get("duplicates", "")) if r.ok else True,
          "suggest showed a unit handler another unit's case")
    check("13812345678" not in r.text, "suggest showed a phone number to a unit handler")


def probe_xml_control(srv, key, op):
    """6. A control character in any text never breaks requests.xml."""
    for bad in ("\x01", "\x0b", "\x1b"):
        requests.post(f"{srv.base}/open311/v2/requests.json",
                      data={"api_key": key.secret, "service_code": "0101", "address_id": "110101009",
                            "description": f"井盖{bad}坏了"})
        op.post(f"{srv.base}/api/v1/cases", json={"channel": "web", "kind": "complaint", "text": f"井盖{bad}坏了",
                                                  "category": "0101", "place": {"street": "110101009"}})
    r = requests.get(f"{srv.base}/open311/v2/requests.xml", params={"page_size": "1000"})
    try:
        ET.fromstring(r.content)
        check(True, "")
    except ET.ParseError as e:
        check(False, f"requests.xml is not well-formed: {e}")


def probe_nul(srv):
    """7. NUL anywhere is a 4xx, never a 5xx."""
    attempts = [
        ("POST", "/api/v1/login", {"json": {"name": "a\x00b", "password": "x"}}),
        ("GET", "/open311/v2/tokens/a%00b.json", {}),
        ("GET", "/open311/v2/requests.json", {"params": {"service_code": "01\x0001"}}),
        ("GET", "/open311/v2/requests/1%00.json", {}),
        ("POST", "/open311/v2/requests.json", {"data": {"api_key": "x\x00", "service_code": "0101"}}),
    ]
    for method, path, kw in attempts:
        r = requests.request(method, srv.base + path, **kw)
        check(400 <= r.status_code < 500, f"NUL in {method} {path}: {r.status_code}")


def probe_citizen_events(srv, supervisor, citizen):
    """8. A citizen reads no staff notes or staff names in its case's history."""
    case = new_case(citizen, srv.base, "小区门口违规停车，堵住消防通道")
    staff_note = "内部备注：此人多次来电"
    r = act(supervisor, srv.base, case, "supervise", note=staff_note)
    check(r.ok, f"supervise with a note: {r.status_code} {r.text[:200]}")
    r = citizen.get(f"{srv.base}/api/v1/cases/{case}/events")
    check(r.ok, f"citizen events: {r.status_code}")
    check(staff_note not in r.text, "a citizen read an internal staff note")
    check("probe-sup" not in r.text, "a citizen read a staff member's name")


def probe_scope_errors(srv, op, citizen):
    """9. Out of scope looks exactly like missing."""
    mine = new_case(citizen, srv.base, "楼道堆物影响通行")
    other = new_case(op, srv.base, "楼道堆物影响通行")
    missing = 99_999_999
    a = act(citizen, srv.base, mine, "merge", into=other)
    b = act(citizen, srv.base, mine, "merge", into=missing)
    ta = a.text.replace(str(other), "N")
    tb = b.text.replace(str(missing), "N")
    check((a.status_code, ta) == (b.status_code, tb), f"merge into another's case {a.status_code} {ta!r} "
                                                       f"vs missing {b.status_code} {tb!r}")
    for path in (f"/api/v1/cases/{other}", f"/api/v1/cases/{other}/events"):
        ra, rb = citizen.get(srv.base + path), citizen.get(srv.base + path.replace(str(other), str(missing)))
        check((ra.status_code, ra.text.replace(str(other), "N")) == (rb.status_code, rb.text.replace(str(missing), "N")),
              f"GET {path}: out of scope differs from missing")


def probe_slow_client(srv):
    """10a. A client that never finishes its headers is cut off."""
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n")
    s.settimeout(90)
    started = time.monotonic()
    try:
        data = s.recv(1024)
        closed = True
    except (socket.timeout, ConnectionResetError):
        data, closed = b"", False
    s.close()
    check(closed and time.monotonic() - started < 60,
          f"a slow client held its connection {time.monotonic() - started:.0f} s ({data[:40]!r})")


def probe_anonymous_flood(srv):
    """10b. Anonymous Open311 reads are limited per client: 429 with Retry-After."""
    limited = None
    for i in range(400):
        r = requests.get(f"{srv.base}/open311/v2/requests.json", params={"page_size": "10"})
        if r.status_code == 429:
            limited = r
            break
    check(limited is not None, "400 anonymous reads in a row were never limited")
    if limited is not None:
        check("Retry-After" in limited.headers, "429 without Retry-After")


def probe_file_modes(db_path):
    """11. The SQLite database and its companions are 0600."""
    for suffix in ("", "-wal", "-shm", ".key"):
        p = db_path + suffix
        if os.path.exists(p):
            mode = stat.S_IMODE(os.stat(p).st_mode)
            check(mode & 0o077 == 0, f"{os.path.basename(p)} has mode {oct(mode)}")


def probe_garbage(srv, op, key):
    """12. Garbage is refused with a clear 400."""
    for lat, lon in ((0, 0), (-39.93, -116.41), (39.93, 0)):
        r = requests.post(f"{srv.base}/open311/v2/requests.json",
                          data={"api_key": key.secret, "service_code": "0101", "lat": lat, "long": lon,
                                "description": "井盖坏了"})
        check(r.status_code == 400, f"Open311 POST at ({lat}, {lon}) answered {r.status_code}")
    r = op.post(f"{srv.base}/api/v1/cases", json={"channel": "hotline", "kind": "complaint", "text": "井盖坏了",
                                                  "category": "0101", "place": {"street": "110101009"},
                                                  "contact": {"name": "张" * 10_000}})
    check(r.status_code == 400, f"a 10,000-character name answered {r.status_code}")
    body = b"api_key=" + key.secret.encode() + b"&service_code=0101&address_id=110101009&description=%FF%FE%E4"
    r = requests.post(f"{srv.base}/open311/v2/requests.json", data=body,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    check(r.status_code == 400, f"invalid UTF-8 in a form answered {r.status_code}")
    r = op.get(f"{srv.base}/api/v1/cases", params={"q": "\x00"})
    total = op.get(f"{srv.base}/api/v1/cases").json()["total"]
    check(r.status_code == 400 or (r.ok and r.json()["total"] < total), f"q=%00 answered {r.status_code} with every case")


def probe_idempotent(srv, op, citizen, key):
    """13. The same external_id twice is one case; a citizen key sees its Open311 requests."""
    ext = f"probe-{time.time_ns()}"
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        rs = list(pool.map(lambda _: op.post(f"{srv.base}/api/v1/cases", json={
            "channel": "app", "kind": "complaint", "text": "路灯不亮", "category": "0101",
            "place": {"street": "110101009"}, "external_id": ext}), range(2)))
    ids = {r.json().get("id") for r in rs if r.ok}
    check(len(ids) == 1, f"one external_id twice gave cases {ids} ({[r.status_code for r in rs]})")
    r = requests.post(f"{srv.base}/open311/v2/requests.json",
                      data={"api_key": key.secret, "service_code": "0101", "address_id": "110101009",
                            "description": "路灯不亮"})
    mine = key.get(f"{srv.base}/api/v1/cases")
    check(mine.ok and len(mine.json()["cases"]) > 0,
          f"a citizen key sees none of its own Open311 requests ({mine.status_code})")


def run(binary, db, workdir, env, db_path=None):
    if not db.startswith("sqlite"):
        # `jiesu serve` fills only an empty SQLite store: give PostgreSQL its year (closed cases).
        subprocess.run([binary, "demo", "--db", db, "--cases", "300"], check=True, env=env, capture_output=True)
    srv = Server(binary, db, workdir, env)
    try:
        op1, op2 = srv.user("probe-op1", "operator"), srv.user("probe-op2", "operator")
        handler = srv.user("probe-s001", "unit_handler", "S001")
        supervisor = srv.user("probe-sup", "supervisor")
        citizen = srv.key("probe-citizen")
        o311 = srv.key("probe-open311")
        for probe, args in [
            (probe_merge_race, (srv, op1, op2)), (probe_foreign_reopen, (srv, op1)),
            (probe_public_pii, (srv, o311)), (probe_suggest_scope, (srv, op1, handler)),
            (probe_xml_control, (srv, o311, op1)), (probe_nul, (srv,)), (probe_citizen_events, (srv, supervisor, citizen)),
            (probe_scope_errors, (srv, op1, citizen)), (probe_garbage, (srv, op1, o311)),
            (probe_idempotent, (srv, op1, citizen, o311)), (probe_slow_client, (srv,)),
            (probe_anonymous_flood, (srv,)),
        ]:
            print(f"{db.split(':')[0]}: {probe.__doc__.splitlines()[0]}", flush=True)
            try:
                probe(*args)
            except Exception as e:  # a probe that crashes is a failed probe, and the others go on
                check(False, f"{probe.__name__} crashed: {e!r}")
        if db_path:
            probe_file_modes(db_path)
    finally:
        srv.stop()
    out = srv.cli("check")
    check(out.returncode == 0, f"jiesu check after the probes: {out.stdout[-500:]}")


def main():
    binary = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory() as workdir:
        env = dict(os.environ)
        path = os.path.join(workdir, "probe.db")
        run(binary, f"sqlite://{path}", workdir, env, db_path=path)
        admin = os.environ.get("DATABASE_URL")
        if admin:
            name = f"jiesu_probe_{os.getpid()}"
            subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True)
            subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {name}"], check=True)
            env["JIESU_DATA_KEY"] = "cHJvYmUgb25seTogbmV2ZXIgYSByZWFsIGtleSEhISE="
            try:
                run(binary, admin.rsplit("/", 1)[0] + "/" + name, workdir, env)
            finally:
                subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"])
    for f in FAILURES:
        print(f"failed: {f}")
    print(f"probes: {RESULTS['passed']} passed, {RESULTS['failed']} failed")
    sys.exit(1 if RESULTS["failed"] else 0)


if __name__ == "__main__":
    main()
