//! Whether an HTTP server still answers at an address, for tests of a server's shutdown.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// A connect alone proves nothing: when nothing listens on an ephemeral port, Linux may give the
/// client that same port and connect it to itself (a rare flake in parallel test runs). So this
/// asks for a page and looks for an HTTP answer.
pub fn still_answers(addr: SocketAddr) -> bool {
    TcpStream::connect(addr).ok().is_some_and(|mut stream| {
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        let _ = stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response);
        response.starts_with(b"HTTP/1.1")
    })
}
