"""A throw-away PKI for the TTE tests, built at run time with cryptography (no key material committed).

Use it from a test module (no conftest needed):

    pytest_plugins = ("tests.pki",)  # the fixture pki

    def test_x(pki):
        credentials = app.tte.open_p12(pki.p12("signer"), pki.PASSPHRASE)
        trust = app.tte.TrustSettings.from_config(pki.config)

pki (session scope): a Pki with
  .root_pem / .root_der    the root CA "BSrE Uji Root CA" that Loket trusts (config.TTE_TRUST_ROOTS)
  .crl_der                 the root's current CRL, listing "revoked" (config.TTE_CRLS)
  .p12(name) -> bytes      a PKCS#12 (key, certificate, root) protected by PASSPHRASE, for the names in SIGNERS:
                           "signer" (Kepala Dinas, valid), "expired", "not_yet_valid", "revoked" (on the CRL),
                           "stranger" (valid but issued by another CA that Loket does not trust)
  .certificate(name)       the cryptography x509.Certificate of that name
  .config                  {"TTE_TRUST_ROOTS": [path], "TTE_CRLS": [path]}: PEM/DER files in a tmp dir
  PASSPHRASE               the passphrase of every PKCS#12
tsa_server (per test): a TimestampServer, an RFC 3161 server on 127.0.0.1 (.url, .requests) signing
with the PKI's "tsa" certificate, for PAdES B-LT without the network.
build_pki(directory) makes one outside pytest (the bench uses it).
"""
from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

PASSPHRASE = "Rahasia-Kadis-2026"
SIGNER_NAME = "Drs. Yohanes Ateng, M.Si."
SIGNERS = ("signer", "expired", "not_yet_valid", "revoked", "stranger")
KEY_SIZE = 2048  # what BSrE issues; smaller keys would make the signing bench look better than it is
CRL_URL = "http://crl.bsre-uji.invalid/root.crl"  # never fetched: the tests run offline
# What `openssl pkcs12 -export` (OpenSSL 3) writes, as an issuer's or administrator's file would be:
# AES-256 with PBKDF2 at OpenSSL's 2048 rounds, HMAC-SHA256 MAC.
P12_ENCRYPTION = (
    serialization.PrivateFormat.PKCS12.encryption_builder()
    .kdf_rounds(2048).key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC).hmac_hash(hashes.SHA256())
)


def _name(common_name: str, organization: str = "Balai Sertifikasi Elektronik (Uji)") -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "ID"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)


def _ca(common_name: str, now: dt.datetime) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = _key()
    name = _name(common_name)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=3650)).not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
        ), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def _leaf(
    common_name: str, ca_key: rsa.RSAPrivateKey, ca: x509.Certificate, not_before: dt.datetime,
    not_after: dt.datetime, *, timestamping: bool = False,
) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = _key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, "Pemerintah Kabupaten Landak")).issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=True, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False,
        ), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(CRL_URL)], relative_name=None, reasons=None, crl_issuer=None,
        )]), critical=False)
    )
    if timestamping:  # RFC 3161 wants this extended key usage, and only it, marked critical
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    return key, builder.sign(ca_key, hashes.SHA256())


@dataclass
class Pki:
    directory: Path
    root: x509.Certificate
    crl: x509.CertificateRevocationList
    keys: dict[str, rsa.RSAPrivateKey] = field(default_factory=dict)
    certificates: dict[str, x509.Certificate] = field(default_factory=dict)
    issuers: dict[str, x509.Certificate] = field(default_factory=dict)
    _p12s: dict[tuple[str, str], bytes] = field(default_factory=dict)
    PASSPHRASE: str = PASSPHRASE
    SIGNER_NAME: str = SIGNER_NAME

    @property
    def root_pem(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.PEM)

    @property
    def root_der(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.DER)

    @property
    def crl_der(self) -> bytes:
        return self.crl.public_bytes(serialization.Encoding.DER)

    @property
    def config(self) -> dict[str, list[str]]:
        return {
            "TTE_TRUST_ROOTS": [str(self.directory / "root.pem")],
            "TTE_CRLS": [str(self.directory / "root.crl")],
        }

    def certificate(self, name: str) -> x509.Certificate:
        return self.certificates[name]

    def p12(self, name: str, passphrase: str | None = None) -> bytes:
        """The PKCS#12 of `name` (key, certificate and its CA), as an administrator would upload it; the
        same bytes at each call (a new serialization would have a new salt)."""
        passphrase = passphrase or self.PASSPHRASE
        if (name, passphrase) not in self._p12s:
            self._p12s[name, passphrase] = pkcs12.serialize_key_and_certificates(
                name=name.encode(), key=self.keys[name], cert=self.certificates[name], cas=[self.issuers[name]],
                encryption_algorithm=P12_ENCRYPTION.build(passphrase.encode()),
            )
        return self._p12s[name, passphrase]


def build_pki(directory: Path, now: dt.datetime | None = None) -> Pki:
    """The CA, its certificates and CRL, and the trust files in `directory` (made if missing)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    directory.mkdir(parents=True, exist_ok=True)
    root_key, root = _ca("BSrE Uji Root CA", now)
    other_key, other = _ca("CA Lain Tidak Dipercaya", now)
    year = dt.timedelta(days=365)
    validity = {
        "signer": (now - year, now + year),
        "expired": (now - 2 * year, now - dt.timedelta(days=1)),
        "not_yet_valid": (now + dt.timedelta(days=30), now + year),
        "revoked": (now - year, now + year),
        "stranger": (now - year, now + year),
    }
    common_names = {
        "signer": SIGNER_NAME, "expired": "Pejabat Lama", "not_yet_valid": "Pejabat Baru",
        "revoked": "Pejabat Dicabut", "stranger": "Penanda Tangan Asing",
    }
    pki = Pki(directory=directory, root=root, crl=None)  # type: ignore[arg-type]  # the CRL is made below
    for name in SIGNERS:
        ca_key, ca = (other_key, other) if name == "stranger" else (root_key, root)
        pki.keys[name], pki.certificates[name] = _leaf(common_names[name], ca_key, ca, *validity[name])
        pki.issuers[name] = ca
    pki.keys["tsa"], pki.certificates["tsa"] = _leaf("TSA Uji", root_key, root, now - year, now + year,
                                                     timestamping=True)
    pki.issuers["tsa"] = root
    pki.crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(root.subject)
        .last_update(now - dt.timedelta(hours=1)).next_update(now + dt.timedelta(days=7))
        .add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(pki.certificates["revoked"].serial_number)
            .revocation_date(now - dt.timedelta(days=2))
            .build()
        )
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
        .add_extension(x509.CRLNumber(1), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    (directory / "root.pem").write_bytes(pki.root_pem)
    (directory / "root.crl").write_bytes(pki.crl_der)
    return pki


class TimestampServer:
    """An RFC 3161 time-stamping authority over HTTP on 127.0.0.1 (pyHanko's DummyTimeStamper signs
    with the PKI's "tsa" certificate), for signing at B-LT without the network."""

    def __init__(self, pki: Pki) -> None:
        tsa = DummyTimeStamper(
            tsa_cert=asn1_x509.Certificate.load(pki.certificates["tsa"].public_bytes(serialization.Encoding.DER)),
            tsa_key=asn1_keys.PrivateKeyInfo.load(pki.keys["tsa"].private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption(),
            )),
            certs_to_embed=SimpleCertificateStore.from_certs([asn1_x509.Certificate.load(pki.root_der)]),
        )
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
                body = tsa.request_tsa_response(request).dump()
                server.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}/tsa"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stops listening (again: no-op): a request is refused, as by a server that is down."""
        if self._thread.is_alive():
            self._http.shutdown()
            self._thread.join()
        self._http.server_close()


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return build_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture()
def tsa_server(pki: Pki) -> Iterator[TimestampServer]:
    """A running time-stamping server (.url, .requests); stopped after the test."""
    server = TimestampServer(pki)
    try:
        yield server
    finally:
        server.stop()
