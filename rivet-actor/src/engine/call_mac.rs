//! Call ids across hosts, signed. A call's id (`runtime/call_ids.rs`) goes to the actor it
//! reaches through the engine's gateway in `x-actor-call-id`, and the gateway forwards
//! headers a client sets itself: unsigned, anyone could claim a call's record (and skip its
//! effect, or read its answer). So the header carries `<base>_<digest>_<mac>`, the MAC an
//! HMAC-SHA256 with the pool's call secret (`EngineConfig::call_secret`, which no client
//! holds, unlike the engine token) over the id, the kind and the name of what it calls; the
//! receiving host takes only ids whose MAC holds for the action or queue the request names.
//! Without a secret no id crosses hosts (calls in-process still carry theirs).

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::runtime::call_ids::{CallId, CallKind, hex};
use crate::runtime::replay::ReplayId;

/// Hex digits of the MAC a header carries (96 bits).
const MAC_HEX: usize = 24;

/// The key call ids are signed with: the pool's call secret.
pub(crate) struct CallSecret(Vec<u8>);

impl CallSecret {
    /// The key of hosts that share `secret` (`EngineConfig::call_secret`); none without one.
    pub(crate) fn new(secret: Option<&str>) -> Option<Self> {
        secret
            .filter(|secret| !secret.is_empty())
            .map(|secret| CallSecret(secret.as_bytes().to_vec()))
    }

    /// The header value carrying `id`, a call of `kind` to `name`.
    pub(crate) fn sign(&self, id: &CallId, kind: CallKind, name: &str) -> String {
        let unsigned = id.unsigned();
        let mac = hex(&self.mac(&unsigned, kind, name).finalize().into_bytes());
        format!("{unsigned}_{}", &mac[..MAC_HEX])
    }

    /// The record key of the call a header names, if its MAC holds for a call of `kind`
    /// to `name`.
    pub(crate) fn verify(&self, header: &str, kind: CallKind, name: &str) -> Option<ReplayId> {
        let (unsigned, mac) = header.rsplit_once('_')?;
        let id = CallId::parse(unsigned)?;
        if mac.len() != MAC_HEX {
            return None;
        }
        let mac = unhex(mac)?;
        self.mac(unsigned, kind, name)
            .verify_truncated_left(&mac)
            .ok()?;
        Some(id.record_key())
    }

    fn mac(&self, unsigned: &str, kind: CallKind, name: &str) -> Hmac<Sha256> {
        // Any key length is accepted.
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key");
        for part in [unsigned, kind.tag(), name] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac
    }
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(text.get(at..at + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::call_ids::CallIds;

    #[test]
    fn only_the_signed_call_is_taken() {
        let secret = CallSecret::new(Some("engine-token")).unwrap();
        let id = CallIds::new("ray-1", "shop", "buy")
            .take("target", CallKind::Action, "charge", None)
            .id;
        let header = secret.sign(&id, CallKind::Action, "charge");
        assert!(header.len() <= 128, "{header}");
        assert_eq!(
            secret.verify(&header, CallKind::Action, "charge"),
            Some(id.record_key())
        );
        // Another action or queue, another token, a forged or bare id: nothing.
        assert_eq!(secret.verify(&header, CallKind::Action, "refund"), None);
        assert_eq!(secret.verify(&header, CallKind::Queue, "charge"), None);
        let other = CallSecret::new(Some("another")).unwrap();
        assert_eq!(other.verify(&header, CallKind::Action, "charge"), None);
        let forged = format!("{}_{}", id.unsigned(), "0".repeat(MAC_HEX));
        assert_eq!(secret.verify(&forged, CallKind::Action, "charge"), None);
        assert_eq!(
            secret.verify(&id.unsigned(), CallKind::Action, "charge"),
            None
        );
        assert!(CallSecret::new(None).is_none());
        assert!(CallSecret::new(Some("")).is_none());
    }
}
