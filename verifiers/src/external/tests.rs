use super::reader::read_line;
use super::*;
use serde_json::json;

#[test]
fn responses_are_validated() {
    assert_eq!(
        parse_response(&json!({"id": 1, "accepted": true})),
        Ok(Verdict::Accept {
            score: 1.0,
            evidence: String::new()
        })
    );
    assert_eq!(
        parse_response(
            &json!({"id": 1, "accepted": false, "reason": "wrong_answer", "detail": "7 != 8"})
        ),
        Ok(Verdict::reject("wrong_answer", "7 != 8"))
    );
    for bad in [
        json!({"id": 1}),
        json!({"id": 1, "accepted": "yes"}),
        json!({"id": 1, "accepted": true, "score": 1.5}),
        json!({"id": 1, "accepted": true, "score": "1"}),
        json!({"id": 1, "accepted": false}),
        json!({"id": 1, "accepted": false, "reason": "Wrong Answer"}),
        json!({"id": 1, "accepted": true, "detail": 3}),
    ] {
        assert!(
            matches!(parse_response(&bad), Err(VerifyError::Protocol(_))),
            "{bad}"
        );
    }
    assert!(matches!(
        parse_response(&json!({"id": 1, "error": "no reference"})),
        Err(VerifyError::Other(_))
    ));
}

#[test]
fn handshakes_are_validated() {
    let ok = parse_handshake(&json!({"protocol": 1, "name": "n", "version": "2"})).expect("ok");
    assert_eq!(
        ok.0,
        Identity {
            name: "n".into(),
            version: "2".into()
        }
    );
    assert_eq!(ok.1, None);
    assert_eq!(
        parse_handshake(&json!({"protocol": 1, "name": "n", "version": "2", "max_in_flight": 3}))
            .expect("ok")
            .1,
        Some(3)
    );
    assert!(matches!(
        parse_handshake(&json!({"protocol": 2, "name": "n", "version": "2"})),
        Err(VerifyError::Config(_))
    ));
    assert!(parse_handshake(&json!({"protocol": 1, "name": "", "version": "2"})).is_err());
    assert!(parse_handshake(&json!({"protocol": 1, "name": "n"})).is_err());
    assert!(parse_handshake(
        &json!({"protocol": 1, "name": "n", "version": "1", "max_in_flight": 0})
    )
    .is_err());
}

#[test]
fn lines_are_bounded() {
    let mut r = std::io::Cursor::new(b"abc\n\nlong-line-here\nend".to_vec());
    assert_eq!(read_line(&mut r, 8).expect("ok"), Some(b"abc".to_vec()));
    assert_eq!(read_line(&mut r, 8).expect("ok"), Some(Vec::new()));
    assert!(read_line(&mut r, 8).is_err());
    let mut r = std::io::Cursor::new(b"end".to_vec());
    assert_eq!(read_line(&mut r, 8).expect("ok"), Some(b"end".to_vec()));
    assert_eq!(read_line(&mut r, 8).expect("ok"), None);
}
