//! What every loopback service needs: a free port, and a CA with a server
//! certificate for 127.0.0.1 made for the run.

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

/// A CA and a server certificate for 127.0.0.1 it signed (P-256, two days),
/// with openssl; `server.pem` holds the certificate and its key, as socat wants.
pub(crate) fn make_certificates(folder: &Path) -> Result<(), String> {
    openssl(
        folder,
        &[
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
        ],
    )?;
    signed_by_the_ca(
        folder,
        "server",
        "/CN=127.0.0.1",
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )?;
    let pem = [std::fs::read(folder.join("server.crt")), std::fs::read(folder.join("server.key"))]
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?
        .concat();
    std::fs::write(folder.join("server.pem"), pem).map_err(|e| e.to_string())
}

/// A client certificate for `name`, signed by the CA `make_certificates` left in
/// `folder`: `client.crt` and `client.key` (mode 600).
pub(crate) fn make_client_certificate(folder: &Path, name: &str) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    signed_by_the_ca(
        folder,
        "client",
        &format!("/CN={name}"),
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n",
    )?;
    std::fs::set_permissions(folder.join("client.key"), std::fs::Permissions::from_mode(0o600))
        .map_err(|e| e.to_string())
}

/// `{stem}.key` and `{stem}.crt` for `subject`, with `extensions`, signed by `ca.pem` in `folder`.
fn signed_by_the_ca(folder: &Path, stem: &str, subject: &str, extensions: &str) -> Result<(), String> {
    let (key, request, certificate, extensions_file) =
        (format!("{stem}.key"), format!("{stem}.csr"), format!("{stem}.crt"), format!("{stem}.ext"));
    openssl(
        folder,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &request,
            "-subj",
            subject,
        ],
    )?;
    std::fs::write(folder.join(&extensions_file), extensions).map_err(|e| e.to_string())?;
    openssl(
        folder,
        &[
            "x509",
            "-req",
            "-in",
            &request,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            &certificate,
            "-days",
            "2",
            "-extfile",
            &extensions_file,
        ],
    )
}

fn openssl(folder: &Path, args: &[&str]) -> Result<(), String> {
    check("openssl", Command::new("openssl").args(args).current_dir(folder).output())
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
