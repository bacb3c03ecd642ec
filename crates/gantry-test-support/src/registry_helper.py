"""Test helper for gantry's registry fixture (Python 3 stdlib + `cryptography`).

  registry_helper.py token PORT CERT_OUT ISSUER SERVICE USER PASSWORD
      Docker token-auth server on 127.0.0.1:PORT. Writes its signing certificate to CERT_OUT
      (the registry's rootcertbundle), then prints "ready". GET /token?service=&scope=...
      with Basic USER:PASSWORD grants pull,push (and delete); without credentials grants pull
      only; wrong credentials get 401.
  registry_helper.py tls DIR
      Writes DIR/ca.pem, DIR/server.pem, DIR/server-key.pem (CA-signed, SAN 127.0.0.1 and
      localhost) and DIR/other-ca.pem (an unrelated CA, for wrong-CA tests).
"""
import base64, datetime, http.server, json, os, sys, time, urllib.parse, uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
import ipaddress


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def self_signed(cn, key, ca=False):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    b = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now() - datetime.timedelta(days=1))
         .not_valid_after(now() + datetime.timedelta(days=30)))
    if ca:
        b = b.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    return b.sign(key, hashes.SHA256())


def tls(d):
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = self_signed("gantry-test-ca", ca_key, ca=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now() - datetime.timedelta(days=1))
            .not_valid_after(now() + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256()))
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other = self_signed("gantry-other-ca", other_key, ca=True)
    pem = lambda c: c.public_bytes(serialization.Encoding.PEM)
    open(os.path.join(d, "ca.pem"), "wb").write(pem(ca))
    open(os.path.join(d, "other-ca.pem"), "wb").write(pem(other))
    open(os.path.join(d, "server.pem"), "wb").write(pem(cert))
    open(os.path.join(d, "server-key.pem"), "wb").write(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption()))
    print("ready", flush=True)


def token(port, cert_out, issuer, service, user, password):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = self_signed("gantry-token-issuer", key)
    tmp = cert_out + ".tmp"
    open(tmp, "wb").write(cert.public_bytes(serialization.Encoding.PEM))
    os.rename(tmp, cert_out)
    x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            url = urllib.parse.urlparse(self.path)
            if url.path != "/token":
                self.send_response(404); self.end_headers(); return
            q = urllib.parse.parse_qs(url.query)
            auth = self.headers.get("Authorization")
            if auth is not None and auth != expected:
                body = b'{"details":"wrong user name or password"}'
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers(); self.wfile.write(body); return
            allowed = {"pull", "push", "delete", "*"} if auth else {"pull"}
            access = []
            for scope in q.get("scope", []):
                for s in scope.split(" "):
                    parts = s.split(":")
                    if len(parts) < 3 or parts[0] != "repository":
                        continue
                    name = ":".join(parts[1:-1])
                    actions = [a for a in parts[-1].split(",") if a in allowed]
                    access.append({"type": "repository", "name": name, "actions": actions})
            t = int(time.time())
            header = {"typ": "JWT", "alg": "RS256", "x5c": [x5c]}
            claims = {"iss": issuer, "sub": user if auth else "", "aud": q.get("service", [service])[0],
                      "exp": t + 300, "nbf": t - 10, "iat": t, "jti": uuid.uuid4().hex,
                      "access": access}
            signing = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
            sig = key.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256())
            jwt = signing + "." + b64url(sig)
            body = json.dumps({"token": jwt, "access_token": jwt, "expires_in": 300,
                               "issued_at": now().strftime("%Y-%m-%dT%H:%M:%SZ")}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers(); self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), Handler)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    if sys.argv[1] == "token":
        token(*sys.argv[2:8])
    elif sys.argv[1] == "tls":
        tls(sys.argv[2])
    else:
        sys.exit("usage: registry_helper.py token|tls ...")
