use std::io::Write;

use super::*;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn gzip_deflate_roundtrip() {
    let text = b"hello hello hello hello".repeat(10);
    assert_eq!(
        decode(Encoding::Gzip, &gzip(&text), 1 << 20),
        (text.clone(), None)
    );
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&text).unwrap();
    assert_eq!(
        decode(Encoding::Deflate, &z.finish().unwrap(), 1 << 20),
        (text.clone(), None)
    );
    // Raw deflate under the "deflate" name is accepted too.
    let mut d = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    d.write_all(&text).unwrap();
    assert_eq!(
        decode(Encoding::Deflate, &d.finish().unwrap(), 1 << 20),
        (text, None)
    );
}

#[test]
fn brotli_known_vector() {
    // brotli of "hello" (quality 11), from the reference encoder.
    let br = [0x0b, 0x02, 0x80, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x03];
    assert_eq!(
        decode(Encoding::Brotli, &br, 100),
        (b"hello".to_vec(), None)
    );
}

#[test]
fn bomb_is_capped() {
    let zeros = vec![0u8; 10 << 20];
    let bomb = gzip(&zeros);
    assert!(bomb.len() < 20_000);
    let (out, err) = decode(Encoding::Gzip, &bomb, 1 << 20);
    assert_eq!(out.len(), 1 << 20);
    assert_eq!(err, Some(DecodeError::TooLarge { limit: 1 << 20 }));
}

#[test]
fn corrupt_input_reports_error() {
    let mut g = gzip(b"some text that is long enough");
    let n = g.len();
    g.truncate(n - 10);
    let (_, err) = decode(Encoding::Gzip, &g, 1000);
    assert!(matches!(err, Some(DecodeError::Corrupt(_))));
    assert!(decode(Encoding::Brotli, b"\xff\xff\xff", 10).1.is_some());
}

#[test]
fn grpc_framing() {
    let body = [0, 0, 0, 0, 2, 0xa, 0xb, 1, 0, 0, 0, 5, 1, 2, 0];
    let (msgs, partial) = grpc_messages(&body);
    assert_eq!(partial, None);
    assert_eq!(msgs.len(), 2);
    assert_eq!(
        msgs[0],
        GrpcMessage {
            off: 0,
            compressed: false,
            length: 2,
            present: 2
        }
    );
    assert_eq!(
        msgs[1],
        GrpcMessage {
            off: 7,
            compressed: true,
            length: 5,
            present: 3
        }
    );
    let (msgs, partial) = grpc_messages(&[0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(msgs.len(), 1);
    assert_eq!(partial, Some(5));
}

#[test]
fn media_types() {
    assert_eq!(media_type(b"Text/HTML; charset=UTF-8"), "text/html");
    assert_eq!(
        media_parameters(b"text/html; charset=UTF-8").as_deref(),
        Some("charset=UTF-8")
    );
    assert!(is_grpc(b"application/grpc+proto"));
    assert!(!is_grpc(b"application/json"));
    assert_eq!(Encoding::from_header(b" GZIP "), Some(Encoding::Gzip));
    assert_eq!(Encoding::from_header(b"identity"), None);
}
