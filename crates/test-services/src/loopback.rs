//! What every loopback service needs: a free port, and a CA with a server
//! certificate for 127.0.0.1 made for the run.

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

/// A CA and a server certificate for 127.0.0.1 it signed (P-256, two days),
/// with openssl; `server.pem` holds the certificate and its key, as socat wants.
pub(crate) fn make_certificates(folder: &Path) -> Result<(), String> {
    let openssl =
        |args: &[&str]| check("openssl", Command::new("openssl").args(args).current_dir(folder).output());
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=cws test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ])?;
    openssl(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ])?;
    std::fs::write(
        folder.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .map_err(|e| e.to_string())?;
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ])?;
    let pem = [std::fs::read(folder.join("server.crt")), std::fs::read(folder.join("server.key"))]
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?
        .concat();
    std::fs::write(folder.join("server.pem"), pem).map_err(|e| e.to_string())
}

pub(crate) fn free_loopback_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

pub(crate) fn check(program: &str, output: std::io::Result<std::process::Output>) -> Result<(), String> {
    let output = output.map_err(|e| format!("{program}: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!("{program} failed: {}", String::from_utf8_lossy(&output.stderr).trim()))
}

/// A client certificate for `name`, signed by the CA `make_certificates` left in
/// `folder`: `client.crt` and `client.key` (mode 600).
pub(crate) fn make_client_certificate(folder: &Path, name: &str) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let openssl =
        |args: &[&str]| check("openssl", Command::new("openssl").args(args).current_dir(folder).output());
    let subject = format!("/CN={name}");
    openssl(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "client.key",
        "-out",
        "client.csr",
        "-subj",
        &subject,
    ])?;
    std::fs::write(
        folder.join("client.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n",
    )
    .map_err(|e| e.to_string())?;
    openssl(&[
        "x509",
        "-req",
        "-in",
        "client.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "client.crt",
        "-days",
        "2",
        "-extfile",
        "client.ext",
    ])?;
    std::fs::set_permissions(folder.join("client.key"), std::fs::Permissions::from_mode(0o600))
        .map_err(|e| e.to_string())
}
