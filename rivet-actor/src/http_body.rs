//! Reading an HTTP answer's body with a bound (the network client's answers, a JWKS key
//! set): what passes it is refused before it is all in memory.

use axum::body::Bytes;

/// `response`'s body, refused past `limit` bytes.
pub(crate) async fn read_at_most(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Bytes, String> {
    let too_large = || format!("the answer is larger than {limit} bytes");
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Err(too_large());
    }
    let transport = |err: reqwest::Error| err.to_string();
    // Most answers come in one chunk: kept as it is, not copied.
    let Some(first) = response.chunk().await.map_err(transport)? else {
        return Ok(Bytes::new());
    };
    if first.len() > limit {
        return Err(too_large());
    }
    let Some(second) = response.chunk().await.map_err(transport)? else {
        return Ok(first);
    };
    let mut body = Vec::with_capacity(first.len() + second.len());
    let mut next = Some(second);
    body.extend_from_slice(&first);
    while let Some(chunk) = next {
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
        next = response.chunk().await.map_err(transport)?;
    }
    Ok(Bytes::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A server on 127.0.0.1 that answers every request with `body` in chunks of 1 KiB,
    /// chunked (no length announced) unless `announce`.
    async fn server(body: usize, announce: bool) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut request = [0u8; 1024];
                    let _ = stream.read(&mut request).await;
                    let head = if announce {
                        format!("HTTP/1.1 200 OK\r\ncontent-length: {body}\r\n\r\n")
                    } else {
                        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_owned()
                    };
                    stream.write_all(head.as_bytes()).await?;
                    let mut left = body;
                    while left > 0 {
                        let n = left.min(1024);
                        let chunk = vec![b'x'; n];
                        if !announce {
                            stream.write_all(format!("{n:x}\r\n").as_bytes()).await?;
                        }
                        stream.write_all(&chunk).await?;
                        if !announce {
                            stream.write_all(b"\r\n").await?;
                        }
                        left -= n;
                    }
                    if !announce {
                        stream.write_all(b"0\r\n\r\n").await?;
                    }
                    std::io::Result::Ok(())
                });
            }
        });
        format!("http://{addr}/")
    }

    async fn fetch(url: &str, limit: usize) -> Result<Bytes, String> {
        let response = reqwest::get(url).await.unwrap();
        read_at_most(response, limit).await
    }

    #[tokio::test]
    async fn answers_past_the_bound_are_refused_announced_or_not() {
        for announce in [true, false] {
            let url = server(10 * 1024, announce).await;
            assert_eq!(fetch(&url, 10 * 1024).await.unwrap().len(), 10 * 1024);
            let refused = fetch(&url, 10 * 1024 - 1).await.unwrap_err();
            assert!(refused.to_string().contains("larger than"), "{refused}");
        }
        let empty = server(0, true).await;
        assert!(fetch(&empty, 1).await.unwrap().is_empty());
    }
}
