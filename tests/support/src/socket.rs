//! A plain socket's view of a server that closes connections: for the tests of the limits of
//! a server facing the internet (the examples' and the relay's).

use std::io::Read;
use std::net::TcpStream;
use std::time::Duration;

/// Whether the server closed `stream` within `limit`: a read returns the end, or an error other
/// than the read timing out.
pub fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    stream
        .set_read_timeout(Some(limit))
        .expect("a read timeout");
    let mut sink = Vec::new();
    match stream.read_to_end(&mut sink) {
        Ok(_) => true,
        Err(error) => !matches!(
            error.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
    }
}
