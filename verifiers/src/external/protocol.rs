//! The JSON-lines protocol: the handshake and a response, checked field by field.

use super::{Identity, PROTOCOL_VERSION};
use crate::verifier::is_snake_case;
use crate::{Verdict, VerifyError};
use serde_json::Value;

pub(super) fn short(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}

/// Checks the handshake answer: `{"protocol": 1, "name": "...", "version": "..."}` plus an
/// optional `"max_in_flight"`.
pub(super) fn parse_handshake(v: &Value) -> Result<(Identity, Option<usize>), VerifyError> {
    let proto = v.get("protocol").and_then(Value::as_u64);
    if proto != Some(PROTOCOL_VERSION) {
        return Err(VerifyError::Config(format!(
            "handshake: smelt speaks protocol {PROTOCOL_VERSION}, the verifier answered {}",
            short(v)
        )));
    }
    let text = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty() && s.len() <= 200)
            .map(str::to_owned)
    };
    let (Some(name), Some(version)) = (text("name"), text("version")) else {
        return Err(VerifyError::Protocol(format!(
            "handshake needs non-empty \"name\" and \"version\" strings: {}",
            short(v)
        )));
    };
    let wanted = match v.get("max_in_flight") {
        None | Some(Value::Null) => None,
        Some(n) => match n.as_u64() {
            Some(n) if n >= 1 => Some(n as usize),
            _ => return Err(VerifyError::Protocol(format!("bad max_in_flight: {n}"))),
        },
    };
    Ok((Identity { name, version }, wanted))
}

/// Turns a response object into a verdict, validating every field.
pub(super) fn parse_response(v: &Value) -> Result<Verdict, VerifyError> {
    let proto = |m: String| Err(VerifyError::Protocol(m));
    if let Some(e) = v.get("error") {
        let msg = e.as_str().map_or_else(|| e.to_string(), str::to_owned);
        return Err(VerifyError::Other(format!(
            "the verifier could not judge: {msg}"
        )));
    }
    let Some(accepted) = v.get("accepted").and_then(Value::as_bool) else {
        return proto(format!("\"accepted\" must be true or false: {}", short(v)));
    };
    let detail = match v.get("detail") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => return proto(format!("\"detail\" must be a string, got {}", short(other))),
    };
    if accepted {
        let score = match v.get("score") {
            None | Some(Value::Null) => 1.0,
            Some(s) => match s.as_f64() {
                Some(x) if x.is_finite() && (0.0..=1.0).contains(&x) => x,
                _ => return proto(format!("\"score\" must be a number in [0, 1], got {s}")),
            },
        };
        Ok(Verdict::Accept {
            score,
            evidence: detail,
        })
    } else {
        let Some(reason) = v.get("reason").and_then(Value::as_str) else {
            return proto(format!(
                "a rejection needs a \"reason\" string: {}",
                short(v)
            ));
        };
        if !is_snake_case(reason) {
            return proto(format!("reason {reason:?} is not snake_case"));
        }
        Ok(Verdict::reject(reason, detail))
    }
}
