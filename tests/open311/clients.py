#!/usr/bin/env python3
"""Real Open311 clients against a real `jiesu serve`.

Starts the given jiesu binary on a free port with a fresh SQLite store (a few hundred demo cases),
then checks, unchanged, what an Open311 app does:
  * PyPI `georeport` (Python 3), in JSON and in XML: service list, a service definition, the request
    list with and without filters, one request;
  * discovery, read with `requests` and parsed with the standard library's XML parser;
  * POST -> token -> request: a batch service answers with a token, the token resolves to the
    request id, and georeport reads that request back; a realtime POST with a photo (multipart),
    whose media_url serves the same bytes;
  * FixMyStreet's servicerequestupdates: GET since a date, POST an update, POST it again (idempotent);
  * every XML answer parses, and no personal data the test posted comes back.

`three` and `open311` (the other Python clients) need Python 2.7, which this machine lacks.

Usage: clients.py PATH/TO/jiesu
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

import requests
from georeport import GeoReport

JURISDICTION = "bjdch.gov.cn"
PHONE = "13912345678"
NAME = "张三丰"
EMAIL = "zhang.sanfeng@example.com"
# The smallest valid PNG (1x1).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8ffff3f0005fe02fea73581840000000049454e44ae426082"
)
CHECKS = 0


def check(cond, what):
    global CHECKS
    CHECKS += 1
    if not cond:
        raise AssertionError(what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary, workdir):
    port = free_port()
    db = f"sqlite://{workdir}/jiesu.db"
    log = open(os.path.join(workdir, "serve.log"), "w")
    proc = subprocess.Popen(
        [binary, "serve", "--db", db, "--addr", f"127.0.0.1:{port}", "--demo-cases", "300"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    root = f"http://127.0.0.1:{port}/open311/v2"
    for _ in range(600):
        if proc.poll() is not None:
            raise SystemExit(f"jiesu serve exited with {proc.returncode}; see {log.name}")
        try:
            if requests.get(f"{root}/discovery.json", timeout=1).ok:
                return proc, root, db
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("jiesu serve did not answer within 120 s")


def api_key(binary, db):
    """A new key from `jiesu key add` (printed alone on its last line)."""
    out = subprocess.run([binary, "key", "add", "--db", db, "--name", "open311-ci"],
                         capture_output=True, text=True, check=True).stdout
    return out.strip().splitlines()[-1]


def xml_of(resp):
    check(resp.headers["Content-Type"].startswith("text/xml"), f"XML content type: {resp.headers}")
    check(resp.text.startswith('<?xml version="1.0" encoding="utf-8"?>'), resp.text[:80])
    return ET.fromstring(resp.content)


def no_personal_data(text, where):
    for secret in (PHONE, NAME, EMAIL):
        check(secret not in text, f"personal data {secret!r} in {where}")


def read_side(root, fmt):
    g = GeoReport(root, jurisdiction=JURISDICTION, output_format=fmt)
    services = g.get_service_list()
    check(len(services) > 100, f"{fmt}: {len(services)} services")
    codes = [s["service_code"] for s in services]
    check(all(isinstance(c, str) for c in codes), f"{fmt}: service codes are strings")
    check("0401" in codes and "0102" in codes, f"{fmt}: heating and illegal building services")
    d = g.get_service_definition("0902")
    attrs = d["attributes"] if fmt == "json" else d["attributes"]["attribute"]
    hours = [a for a in attrs if a["code"] == "HOURS"][0]
    check(hours["datatype"] == "multivaluelist", f"{fmt}: HOURS datatype")
    reqs = g.get_service_requests()
    check(isinstance(reqs, list) and len(reqs) > 10, f"{fmt}: demo requests in the last 90 days ({len(reqs)})")
    check(all(isinstance(r["service_request_id"], str) for r in reqs), f"{fmt}: ids are strings")
    check({r["status"] for r in reqs} <= {"open", "closed"}, f"{fmt}: statuses")
    now = datetime.now(timezone(timedelta(hours=8))).replace(microsecond=0)
    start_date = (now - timedelta(days=30)).isoformat()
    end_date = now.isoformat()
    some = g.get_service_requests(status="open", start_date=start_date, end_date=end_date)
    if isinstance(some, dict):  # xmltodict gives a dict for a single element
        some = [some]
    check(all(r["status"] == "open" for r in some), f"{fmt}: status filter")
    one = g.get_service_request(reqs[0]["service_request_id"])
    check(one["service_request_id"] == reqs[0]["service_request_id"], f"{fmt}: one request")
    return len(services), len(reqs)


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    binary = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory(prefix="jiesu-open311-") as workdir:
        proc, root, db = start(binary, workdir)
        try:
            run(root, api_key(binary, db))
        except Exception:
            print(open(os.path.join(workdir, "serve.log")).read()[-4000:], file=sys.stderr)
            raise
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(f"open311 clients: {CHECKS} checks passed")


def run(root, key):
    # Discovery.
    disc = requests.get(f"{root}/discovery.json").json()
    check(disc["endpoints"][0]["url"] == root, f"discovery url {disc['endpoints'][0]['url']}")
    x = xml_of(requests.get(f"{root}/discovery.xml"))
    check([f.text for f in x.iter("format")] == ["text/xml", "application/json"], "discovery formats")

    # georeport, the read side, in both formats.
    for fmt in ("json", "xml"):
        n_services, n_requests = read_side(root, fmt)
        print(f"georeport {fmt}: {n_services} services, {n_requests} requests")

    # POST -> token -> request (a batch service), then georeport reads it.
    form = {
        "api_key": key, "jurisdiction_id": JURISDICTION, "service_code": "0102",
        "lat": "39.9289", "long": "116.4168", "description": f"院内私搭乱建，电话{PHONE}",
        "first_name": "三丰", "last_name": "张", "phone": PHONE, "email": EMAIL,
        "attribute[DETAIL]": "东侧加盖一间\n去年开始", "attribute[KIND]": "report",
    }
    r = requests.post(f"{root}/requests.json", data=form)
    check(r.status_code == 201, f"POST batch: {r.status_code} {r.text}")
    token = r.json()[0]["token"]
    check("service_request_id" not in r.json()[0], "a batch POST answers with a token only")
    t = requests.get(f"{root}/tokens/{token}.json").json()[0]
    check(t["token"] == token, "token echoed")
    rid = t["service_request_id"]
    check(xml_of(requests.get(f"{root}/tokens/{token}.xml")).find("request/service_request_id").text == rid, "token XML")
    for fmt in ("json", "xml"):
        g = GeoReport(root, jurisdiction=JURISDICTION, api_key=key, output_format=fmt)
        got = g.get_service_request(rid)
        check(got["service_request_id"] == rid and got["service_code"] == "0102", f"{fmt}: the posted request")
        check(got["status"] == "open", f"{fmt}: open")

    # A realtime POST with a photo (multipart).
    form = {"api_key": key, "service_code": "0401", "address_string": "东城区东四十条甲22号",
            "description": "暖气不热", "attribute[ROOM_TEMP]": "15", "phone": PHONE}
    r = requests.post(f"{root}/requests.xml", data=form, files={"media": ("photo.png", PNG, "image/png")})
    check(r.status_code == 201, f"POST multipart: {r.status_code} {r.text}")
    heat_id = xml_of(r).find("request/service_request_id").text
    one = requests.get(f"{root}/requests/{heat_id}.json").json()[0]
    media = requests.get(one["media_url"])
    check(media.status_code == 200 and media.content == PNG, "the photo comes back")
    check(media.headers["Content-Type"] == "image/png", "photo content type")

    # Errors in the spec's shape.
    r = requests.post(f"{root}/requests.json", data={"service_code": "0401", "lat": "39.9", "long": "116.4"})
    check(r.status_code == 403 and r.json()[0]["code"] == 403, f"no key: {r.status_code} {r.text}")
    r = requests.post(f"{root}/requests.json", data={"api_key": "jsk_wrong", "service_code": "0401", "lat": "39.9", "long": "116.4"})
    check(r.status_code == 403, f"a wrong key: {r.status_code} {r.text}")
    r = requests.get(f"{root}/requests.xml", params={"start_date": "yesterday"})
    check(r.status_code == 400 and xml_of(r).find("error/code").text == "400", "bad date in XML")

    # servicerequestupdates: GET since a date; POST an update twice.
    since = (datetime.now(timezone.utc) - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ups = requests.get(f"{root}/servicerequestupdates.json", params={"start_date": since}).json()
    check(any(u["service_request_id"] == rid for u in ups), "updates include the new request")
    xml_of(requests.get(f"{root}/servicerequestupdates.xml", params={"start_date": since}))
    update = {"api_key": key, "service_request_id": rid, "update_id": "fms-ci-1", "status": "OPEN",
              "updated_datetime": datetime.now(timezone.utc).isoformat(), "description": "补充：又加盖了一层",
              "email": EMAIL}
    first = requests.post(f"{root}/servicerequestupdates.json", data=update)
    check(first.status_code == 201, f"POST update: {first.status_code} {first.text}")
    again = requests.post(f"{root}/servicerequestupdates.json", data=update)
    check(again.status_code == 200 and again.json() == first.json(), "the same update_id twice is one update")

    # Everything public, once more, in both formats: no personal data.
    for fmt in ("json", "xml"):
        for path in (f"requests.{fmt}?extensions=true", f"requests/{rid}.{fmt}?extensions=true",
                     f"requests/{heat_id}.{fmt}", f"servicerequestupdates.{fmt}?start_date={since}"):
            resp = requests.get(f"{root}/{path}")
            check(resp.ok, f"{path}: {resp.status_code}")
            if fmt == "xml":
                xml_of(resp)
            no_personal_data(resp.text, path)


if __name__ == "__main__":
    main()
