"""`carnot runtime from-zeek`: ssl.log as Zeek writes it (TSV with its header directives, JSON
lines), mapped to runtime lines that `runtime to-bom` takes unchanged; corrupted logs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from capture_testing import Line, carnot, read_lines

FIELDS = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "version", "cipher", "curve",
          "server_name", "resumed", "last_alert", "next_protocol", "established", "ssl_history", "cert_chain_fps",
          "client_cert_chain_fps", "sni_matches_cert", "client_curves"]
TYPES = ["time", "string", "addr", "port", "addr", "port", "string", "string", "string", "string", "bool", "string",
         "string", "bool", "string", "vector[string]", "vector[string]", "bool", "vector[count]"]
ROWS = [
    # X25519MLKEM768 as a Zeek without the name logs it, offered groups from ssl-log-ext
    ["1764000000.250000", "C1", "10.0.0.1", "51000", "93.184.216.34", "443", "TLSv13", "TLS_AES_128_GCM_SHA256",
     "unknown-4588", "pq.example", "F", "-", "h2", "T", "CsiI", "(empty)", "(empty)", "-", "4588,29,23"],
    ["1764000001.000000", "C2", "10.0.0.1", "51001", "93.184.216.34", "443", "TLSv12",
     "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "secp256r1", "ecdhe.example", "F", "-", "-", "T", "CsxIi", "(empty)",
     "(empty)", "-", "-"],
    # RSA key exchange: Zeek logs no curve
    ["1764000002.000000", "C3", "2001:db8::1", "51002", "2001:db8::2", "8443", "TLSv12",
     "TLS_RSA_WITH_AES_128_GCM_SHA256", "-", "-", "F", "-", "-", "T", "CsxIi", "(empty)", "(empty)", "-", "-"],
    # a failed handshake whose SNI carries an escaped tab and markup
    ["1764000003.000000", "C4", "10.0.0.9", "51003", "10.0.0.2", "443", "TLSv13", "-", "x25519",
     "evil\\x09<b>.example", "F", "handshake_failure", "-", "F", "Csa", "(empty)", "(empty)", "-", "-"],
]


def tsv(rows: list[list[str]], *, close: bool = True) -> str:
    head = ["#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-", "#path\tssl",
            "#open\t2025-11-24-16-00-00", "#fields\t" + "\t".join(FIELDS), "#types\t" + "\t".join(TYPES)]
    tail = ["#close\t2025-11-24-17-00-00"] if close else []
    return "\n".join(head + ["\t".join(r) for r in rows] + tail) + "\n"


def as_json(row: list[str]) -> str:
    record: dict[str, object] = {}
    for name, value in zip(FIELDS, row, strict=True):
        if value == "-":
            continue
        if name in ("id.orig_p", "id.resp_p"):
            record[name] = int(value)
        elif name == "ts":
            record[name] = float(value)
        elif name in ("resumed", "established"):
            record[name] = value == "T"
        elif name == "client_curves":
            record[name] = [int(v) for v in value.split(",")]
        elif value == "(empty)":
            record[name] = []
        else:
            record[name] = value.replace("\\x09", "\t")
    return json.dumps(record)


def from_zeek(tmp_path: Path, *logs: Path) -> tuple[int, str, list[Line]]:
    out = tmp_path / "zeek.jsonl"
    result = carnot("runtime", "from-zeek", *logs, "--out", out)
    return result.returncode, result.stderr, read_lines(out) if out.exists() else []


def check_mapping(lines: list[Line], log: Path) -> None:
    found = [r for r in lines if r["type"] == "handshake"]
    assert len(found) == 4
    pq, ecdhe, rsa, failed = found
    assert pq["ts"] == "2025-11-24T16:00:00.250000Z"
    assert (pq["tls_version"], pq["cipher_suite"], pq["negotiated_group"], pq["pq_hybrid"]) == \
        ("TLSv1.3", "TLS_AES_128_GCM_SHA256", "X25519MLKEM768", True)
    assert pq["groups_offered"] == ["X25519MLKEM768", "x25519", "secp256r1"] and pq["key_shares_offered"] is None
    assert (pq["src_ip"], pq["src_port"], pq["dst_ip"], pq["dst_port"], pq["sni"]) == \
        ("10.0.0.1", 51000, "93.184.216.34", 443, "pq.example")
    assert (ecdhe["tls_version"], ecdhe["negotiated_group"], ecdhe["pq_hybrid"]) == ("TLSv1.2", "secp256r1", False)
    assert ecdhe["groups_offered"] is None  # the log does not say: null, never guessed
    assert (rsa["negotiated_group"], rsa["pq_hybrid"], rsa["sni"], rsa["dst_ip"]) == (None, None, None, "2001:db8::2")
    assert rsa["cipher_suite"] == "TLS_RSA_WITH_AES_128_GCM_SHA256"
    assert (failed["success"], failed["sni"], failed["cipher_suite"]) == (False, "evil\t<b>.example", None)
    assert (failed["alert"], pq["alert"]) == ("handshake_failure", None)
    for line in found:
        assert line["source"] == "zeek" and line["capture"] == str(log)
        assert all(line[k] is None for k in ("host", "pid", "tid", "comm", "exe", "library", "library_version",
                                             "role", "handshake_ms"))
    assert [r["capture_line"] for r in found] == [9, 10, 11, 12] or log.suffix == ".json"


def test_tsv_ssl_log(tmp_path: Path) -> None:
    log = tmp_path / "ssl.log"
    log.write_text(tsv(ROWS))
    code, err, lines = from_zeek(tmp_path, log)
    assert code == 0, err
    check_mapping(lines, log)
    assert lines[-1]["type"] == "metrics" and lines[-1]["records"] == 4


def test_json_ssl_log(tmp_path: Path) -> None:
    log = tmp_path / "ssl.json"
    log.write_text("\n".join(as_json(r) for r in ROWS) + "\n")
    code, err, lines = from_zeek(tmp_path, log)
    assert code == 0, err
    check_mapping(lines, log)


def test_json_iso_timestamps(tmp_path: Path) -> None:
    log = tmp_path / "ssl.json"
    record = json.loads(as_json(ROWS[0])) | {"ts": "2025-11-24T16:00:00.250000Z"}
    log.write_text(json.dumps(record) + "\n")
    code, err, lines = from_zeek(tmp_path, log)
    assert code == 0, err
    assert lines[0]["ts"] == "2025-11-24T16:00:00.250000Z" and lines[0]["negotiated_group"] == "X25519MLKEM768"


def test_zeek_lines_feed_to_bom_with_source_zeek(tmp_path: Path) -> None:
    log = tmp_path / "ssl.log"
    log.write_text(tsv(ROWS))
    code, err, _ = from_zeek(tmp_path, log)
    assert code == 0, err
    bom = tmp_path / "runtime.cdx.json"
    result = carnot("runtime", "to-bom", tmp_path / "zeek.jsonl", "--out", bom)
    assert result.returncode == 0, result.stderr
    components = json.loads(bom.read_text())["components"]
    assert components
    for component in components:
        sources = {p["value"] for p in component["properties"] if p["name"] == "carnot:source"}
        assert sources == {"zeek"}
        for occurrence in component["evidence"]["occurrences"]:
            assert occurrence["location"] == str(log) and occurrence["line"] in (9, 10, 11, 12)
    pq = [c for c in components if c["name"] == "X25519MLKEM768"]
    assert pq and {"name": "carnot:tls:pq_hybrid", "value": "true"} in pq[0]["properties"]


def _cut_mid_record(text: str) -> str:
    return text[: text.index("C4") + 10]  # the writer died inside the fourth record: no #close


@pytest.mark.parametrize(("damage", "line", "message"), [
    (lambda text: text.replace("\tTLSv12\tTLS_RSA_WITH_AES_128_GCM_SHA256", "\tTLSv12"), 11,
     "18 fields where #fields names 19"),
    (lambda text: text.replace("\t51002\t", "\tport\t"), 11, "bad timestamp or endpoint"),
    (lambda text: text.replace("\t-\tF\tCsa\t", "\t-\tX\tCsa\t"), 12, "'established' is 'X', not T or F"),
    (_cut_mid_record, 12, "3 fields where #fields names 19"),
], ids=["missing_field", "bad_port", "bad_flag", "cut_mid_record"])
def test_corrupted_tsv_keeps_every_record_before_the_damage(tmp_path: Path, damage: object, line: int,
                                                           message: str) -> None:
    log = tmp_path / "ssl.log"
    log.write_text(damage(tsv(ROWS)))  # type: ignore[operator]
    code, err, lines = from_zeek(tmp_path, log)
    assert code == 2 and err.startswith(f"carnot: error: {log}:{line}: ") and message in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert [r["capture_line"] for r in lines if r["type"] == "handshake"] == list(range(9, line))
    assert lines[-1]["type"] == "metrics" and lines[-1]["damaged_files"] == 1


def test_corrupted_json_line_names_its_line(tmp_path: Path) -> None:
    log = tmp_path / "ssl.json"
    rows = [as_json(r) for r in ROWS]
    rows[2] = rows[2][:40]  # cut mid-object
    log.write_text("\n".join(rows) + "\n")
    code, err, lines = from_zeek(tmp_path, log)
    assert code == 2 and err.startswith(f"carnot: error: {log}:3: not a JSON object")
    assert [r["sni"] for r in lines if r["type"] == "handshake"] == ["pq.example", "ecdhe.example"]


@pytest.mark.parametrize(("content", "line", "message"), [
    ("#separator \\x09\n#path\tconn\n", 2, "a 'conn' log, not ssl.log"),
    ("#separator \\x09\n#fields\tts\tuid\n", 2, "#fields lacks id.orig_h"),
    ("#separator \\x09\n1\t2\n", 2, "a record before the #fields header"),
    ("hello\n", 1, "not a Zeek ssl.log"),
])
def test_not_an_ssl_log_is_a_clean_error(tmp_path: Path, content: str, line: int, message: str) -> None:
    log = tmp_path / "other.log"
    log.write_text(content)
    code, err, _ = from_zeek(tmp_path, log)
    assert code == 2 and err.startswith(f"carnot: error: {log}:{line}: ") and message in err, err


@pytest.mark.parametrize("form", ["tsv", "json"])
def test_mangled_logs_give_lines_or_a_clean_error(tmp_path: Path, form: str) -> None:
    import random

    from assess.errors import InputError
    from assess.sources.capture.importer import import_zeek_logs

    text = tsv(ROWS) if form == "tsv" else "\n".join(as_json(r) for r in ROWS) + "\n"
    rng = random.Random(3)
    for i in range(150):
        mangled = bytearray(text.encode())
        for _ in range(rng.randint(1, 4)):
            mangled[rng.randrange(len(mangled))] = rng.choice(b"\t\n{}\",:-0Tx\xff\x00")
        log = tmp_path / f"ssl{i}.log"
        log.write_bytes(bytes(mangled))
        try:
            import_zeek_logs([log], tmp_path / "out.jsonl")
        except InputError as e:
            assert e.one_line().startswith(f"{log}:")
        for line in read_lines(tmp_path / "out.jsonl"):
            json.dumps(line)  # every line written is whole JSON


def test_zeek_and_pcap_agree_on_grease_and_version_spelling(tmp_path: Path) -> None:
    """Zeek's ssl.log of two of the public captures (its names: GREASE as numbers or `grease_0x..`,
    `TLSv13-draft23`) gives the lines from-pcap gives for the captures themselves."""
    from assess.sources.capture import import_pcaps

    captures = Path(__file__).parent.parent / "data" / "captures"
    logged = {  # what Zeek (with ssl-log-ext) logs for each
        "chrome-1250-tls-x25519-kyber.pcap": {"version": "TLSv13", "cipher": "TLS_AES_128_GCM_SHA256",
                                              "curve": "X25519Kyber768Draft00",
                                              "client_curves": [51914, 25497, 29, 23, 24]},
        "tls13draft23-chrome67.0.3368.0-canary.pcap": {"version": "TLSv13-draft23", "cipher": "TLS_AES_128_GCM_SHA256",
                                                       "curve": "x25519",
                                                       "client_curves": ["grease_0x0A0A", "x25519", "secp256r1",
                                                                         "secp384r1"]},
    }
    compared = ("tls_version", "cipher_suite", "negotiated_group", "groups_offered", "pq_hybrid")
    for name, fields in logged.items():
        out = tmp_path / f"{name}.jsonl"
        import_pcaps([captures / name], out)
        [pcap] = [r for r in read_lines(out) if r["type"] == "handshake"]
        log = tmp_path / f"{name}.ssl.json"
        log.write_text(json.dumps({"ts": 1.7e9, "id.orig_h": pcap["src_ip"], "id.orig_p": pcap["src_port"],
                                   "id.resp_h": pcap["dst_ip"], "id.resp_p": pcap["dst_port"], "established": True,
                                   **fields}) + "\n")
        code, err, lines = from_zeek(tmp_path, log)
        assert code == 0, err
        assert {k: lines[0][k] for k in compared} == {k: pcap[k] for k in compared}, name


# Zeek's ssh.log for ssh/ssh_kex_mlkem.pcap (github:zeek/zeek a13de64fbbdb, testing/btest/Baseline/
# scripts.base.protocols.ssh.mlkem_kex/ssh.log), its masked timestamp replaced by the capture's.
SSH_LOG = (
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tssh\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tversion\tauth_success\tauth_attempts\t"
    "direction\tclient\tserver\tcipher_alg\tmac_alg\tcompression_alg\tkex_alg\thost_key_alg\thost_key_fingerprint\n"
    "1765850951.438893\tCHhAvVGS1DHFjwGM9\t10.211.55.16\t49046\t10.211.55.15\t2299\t2\tT\t1\t-\t"
    "SSH-2.0-OpenSSH_10.2\tSSH-2.0-OpenSSH_9.9\tchacha20-poly1305@openssh.com\tumac-64-etm@openssh.com\tnone\t"
    "mlkem768x25519-sha256\tssh-ed25519\tSHA256:nrATGN+v83T2ZnNKhuYTSpkxmd6Td1jx\n"
)


def test_ssh_log_becomes_ssh_lines_like_the_capture_gives(tmp_path: Path) -> None:
    log = tmp_path / "ssh.log"
    log.write_text(SSH_LOG)
    code, err, lines = from_zeek(tmp_path, log)
    assert code == 0, err
    [line] = [r for r in lines if r["type"] == "ssh"]
    assert line["kex"] == "mlkem768x25519-sha256" and line["pq_hybrid"] is True
    assert (line["client_banner"], line["server_banner"]) == ("SSH-2.0-OpenSSH_10.2", "SSH-2.0-OpenSSH_9.9")
    assert line["mac_client_to_server"] is None  # under chacha20-poly1305, as from-pcap says
    assert line["success"] is None and line["kex_offered_client"] is None  # Zeek does not log them
    json_log = tmp_path / "ssh.json.log"
    json_log.write_text(json.dumps({"ts": 1765850951.438893, "id.orig_h": "10.211.55.16", "id.orig_p": 49046,
                                    "id.resp_h": "10.211.55.15", "id.resp_p": 2299, "client": "SSH-2.0-x",
                                    "server": "SSH-2.0-y", "kex_alg": "curve25519-sha256"}) + "\n")
    code, err, lines = from_zeek(tmp_path, json_log)
    assert code == 0, err
    assert [(r["kex"], r["pq_hybrid"]) for r in lines if r["type"] == "ssh"] == [("curve25519-sha256", False)]
