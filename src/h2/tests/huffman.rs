//! Unit tests of `h2::huffman`: RFC 7541 vectors, the code itself, round trips, and every
//! error of RFC 7541 5.2.

use super::*;
use crate::h2::test_rng::Lcg;
use jute_encode::hex;

#[test]
fn code_is_complete_and_prefix_free() {
    // Kraft sum of a complete prefix code is exactly 1.
    let kraft: u128 = CODES.iter().map(|&(_, len)| 1u128 << (30 - len)).sum();
    assert_eq!(kraft, 1u128 << 30);
    // Every internal node has both children (no EMPTY slot) and there are exactly 256.
    for node in TREE.iter() {
        assert_ne!(node[0], EMPTY);
        assert_ne!(node[1], EMPTY);
    }
    // Codes fit their length and EOS is 30 ones.
    for &(code, len) in CODES.iter() {
        assert!((5..=30).contains(&len));
        assert!(u64::from(code) < 1u64 << len);
    }
    assert_eq!(CODES[EOS], (0x3fff_ffff, 30));
    // Spot checks against RFC 7541 Appendix B.
    assert_eq!(CODES[b'0' as usize], (0x0, 5));
    assert_eq!(CODES[b'a' as usize], (0x3, 5));
    assert_eq!(CODES[b' ' as usize], (0x14, 6));
    assert_eq!(CODES[b'&' as usize], (0xf8, 8));
    assert_eq!(CODES[0], (0x1ff8, 13));
    assert_eq!(CODES[255], (0x3ffffee, 26));
}

#[test]
fn rfc7541_c4_c6_strings() {
    let cases: &[(&str, &[u8])] = &[
        ("f1e3 c2e5 f23a 6ba0 ab90 f4ff", b"www.example.com"),
        ("a8eb 1064 9cbf", b"no-cache"),
        ("25a8 49e9 5ba9 7d7f", b"custom-key"),
        ("25a8 49e9 5bb8 e8b4 bf", b"custom-value"),
        ("6402", b"302"),
        ("aec3 771a 4b", b"private"),
        (
            "d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff",
            b"Mon, 21 Oct 2013 20:13:21 GMT",
        ),
        (
            "9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3",
            b"https://www.example.com",
        ),
        ("640e ff", b"307"),
        ("9bd9 ab", b"gzip"),
        (
            "94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
            b"foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
        ),
    ];
    for (enc, plain) in cases {
        let enc = hex(enc);
        assert_eq!(decode(&enc).as_deref(), Ok(*plain), "{enc:02x?}");
        let mut re = Vec::new();
        encode(plain, &mut re);
        assert_eq!(re, enc);
        assert_eq!(encoded_len(plain), enc.len());
    }
}

#[test]
fn every_symbol_round_trips() {
    for b in 0..=255u8 {
        let mut enc = Vec::new();
        encode(&[b], &mut enc);
        assert_eq!(decode(&enc), Ok(vec![b]), "symbol {b}");
        // Also between other symbols, so that codes straddle octets in every alignment.
        for prefix in 0..8usize {
            let mut plain = vec![b'a'; prefix];
            plain.push(b);
            plain.extend_from_slice(b"0z");
            let mut enc = Vec::new();
            encode(&plain, &mut enc);
            assert_eq!(decode(&enc), Ok(plain));
        }
    }
}

#[test]
fn random_round_trips() {
    let mut rng = Lcg(7);
    let mut buf = Vec::new();
    for _ in 0..2000 {
        let len = (rng.next() % 300) as usize;
        let plain: Vec<u8> = (0..len)
            .map(|_| {
                if rng.next().is_multiple_of(4) {
                    rng.next() as u8
                } else {
                    b"abcdefghijklmnop0123456789-=:/ ."[(rng.next() % 32) as usize]
                }
            })
            .collect();
        let mut enc = Vec::new();
        encode(&plain, &mut enc);
        assert_eq!(enc.len(), encoded_len(&plain));
        decode_into(&enc, &mut buf).unwrap();
        assert_eq!(buf, plain);
    }
}

#[test]
fn output_bound_holds_for_the_shortest_codes() {
    for k in 0..200 {
        let plain = vec![b'0'; k];
        let mut enc = Vec::new();
        encode(&plain, &mut enc);
        assert!(k <= max_decoded_len(enc.len()), "k {k}");
        assert_eq!(decode(&enc).map(|v| v.len()), Ok(k));
    }
    assert_eq!(max_decoded_len(0), 0);
    assert_eq!(max_decoded_len(5), 8);
    assert_eq!(max_decoded_len(usize::MAX), usize::MAX);
}

#[test]
fn empty_string() {
    assert_eq!(decode(&[]), Ok(vec![]));
}

#[test]
fn padding_of_exactly_seven_bits_is_valid() {
    // '0' (5 bits) + ' ' (6) + ' ' (6) = 17 bits: 7 bits of padding.
    let mut enc = Vec::new();
    encode(b"0  ", &mut enc);
    assert_eq!(enc.len(), 3);
    assert_eq!(enc[2] & 0x7f, 0x7f);
    assert_eq!(decode(&enc), Ok(b"0  ".to_vec()));
}

#[test]
fn eos_inside_the_string_is_an_error() {
    // EOS alone (30 ones) plus 2 bits of padding.
    assert_eq!(decode(&[0xff; 4]), Err(HuffmanError::Eos));
    // 'a' (00011) then EOS: 00011111 1111...
    assert_eq!(
        decode(&[0x1f, 0xff, 0xff, 0xff, 0xff]),
        Err(HuffmanError::Eos)
    );
    // EOS followed by more symbols.
    assert_eq!(
        decode(&[0xff, 0xff, 0xff, 0xfc, 0x00]),
        Err(HuffmanError::Eos)
    );
}

#[test]
fn padding_longer_than_seven_bits_is_an_error() {
    // 'a' (00011) + 3 bits of ones + a whole octet of ones = 11 bits of padding.
    assert_eq!(decode(&[0x1f, 0xff]), Err(HuffmanError::PaddingTooLong));
    // A whole octet of ones on its own.
    assert_eq!(decode(&[0xff]), Err(HuffmanError::PaddingTooLong));
    // A symbol ending on the octet boundary followed by 8 ones.
    assert_eq!(
        decode(&[0xf8, 0xff]),
        Err(HuffmanError::PaddingTooLong),
        "'&' then 0xff"
    );
}

#[test]
fn padding_not_all_ones_is_an_error() {
    // 'a' (00011) + padding 000.
    assert_eq!(decode(&[0x18]), Err(HuffmanError::PaddingNotOnes));
    // 'a' + padding 110.
    assert_eq!(decode(&[0x1e]), Err(HuffmanError::PaddingNotOnes));
    // A symbol ending on the octet boundary, then '0' (00000) and padding 000.
    assert_eq!(decode(&[0xf8, 0x00]), Err(HuffmanError::PaddingNotOnes));
    // A symbol ending on the octet boundary, then 8 bits that are a prefix of a longer
    // code but not all ones.
    assert_eq!(decode(&[0xf8, 0xfe]), Err(HuffmanError::PaddingNotOnes));
}

#[test]
fn errors_display() {
    assert!(HuffmanError::Eos.to_string().contains("EOS"));
    assert!(HuffmanError::PaddingTooLong.to_string().contains("7 bits"));
    assert!(HuffmanError::PaddingNotOnes.to_string().contains("ones"));
}
