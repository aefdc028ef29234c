//! SIGTERM stops the service only after it has responded to the requests in flight.

use std::io::Write;
use std::net::TcpStream;

use serde_json::Value;

use crate::helpers::{read_response, Options, Service, PROJECT};

#[test]
fn sigterm_finishes_request_in_flight() {
    // The debug event "request started" shows when the request is in the handler chain.
    let service = Service::start_with(Options { log_filter: "info,easel::http::observe=debug", ..Options::default() });
    let token = service.token();
    let body = br#"{"swr_path": "team/in-flight:1.0"}"#;
    let (first_half, second_half) = body.split_at(body.len() / 2);
    let mut stream = TcpStream::connect(service.address()).expect("the service accepts connections");
    let head = format!(
        "POST /v1/{PROJECT}/images HTTP/1.1\r\nHost: {}\r\nX-Auth-Token: {token}\r\nX-Request-Id: in-flight\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        service.address(),
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("the head can be sent");
    stream.write_all(first_half).expect("half the body can be sent");
    service.log.wait_for(r#""request.id":"in-flight""#);

    service.send_sigterm();
    service.log.wait_for("shutdown signal received");
    stream.write_all(second_half).expect("the rest of the body can be sent");
    let (status, response) = read_response(&mut stream);

    assert_eq!(status, 200, "{response}");
    let image: Value = serde_json::from_str(&response).unwrap_or_else(|_| panic!("not JSON: {response}"));
    assert_eq!(image["swr_path"], "localhost:5000/team/in-flight:1.0");
    assert!(service.wait_for_exit(), "the service exited with a failure");
}
