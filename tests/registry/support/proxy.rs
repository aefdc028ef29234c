//! A loopback TCP proxy that holds back every chunk the registry sends by a
//! fixed delay: a slow registry, which a real one cannot be made to be.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

pub struct SlowProxy {
    /// `127.0.0.1:PORT`.
    pub host: String,
    task: JoinHandle<()>,
}

impl SlowProxy {
    /// Starts a proxy in front of `upstream` (`127.0.0.1:PORT`) that delays each response chunk by `delay`.
    pub async fn start(upstream: String, delay: Duration) -> SlowProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(&upstream).await {
                        relay(client, server, delay).await;
                    }
                });
            }
        });
        SlowProxy { host, task }
    }
}

async fn relay(client: TcpStream, server: TcpStream, delay: Duration) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let requests = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
    });
    let mut buffer = vec![0; 16 * 1024];
    while let Ok(read) = server_read.read(&mut buffer).await {
        if read == 0 {
            break;
        }
        tokio::time::sleep(delay).await;
        if client_write.write_all(&buffer[..read]).await.is_err() {
            break;
        }
    }
    requests.abort();
}

impl Drop for SlowProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
