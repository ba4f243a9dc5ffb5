//! Which browser origins may reach an actor: exact origins and wildcard subdomains, plus an
//! explicit choice for requests that carry no `Origin` (non-browser clients).
//!
//! Origins are compared as scheme, host and port (default ports folded, ASCII case ignored).
//! A wildcard `https://*.myapp.com` matches one or more labels before `.myapp.com` and
//! nothing else: not `https://myapp.com`, not `https://evilmyapp.com`, not
//! `https://myapp.com.evil.com`.

use std::fmt;

/// An origin allowlist.
///
/// ```
/// use rivet_actor::OriginPolicy;
/// let policy = OriginPolicy::allow(["https://myapp.com", "https://*.myapp.com"]).unwrap();
/// assert!(policy.allows(Some("https://myapp.com")));
/// assert!(policy.allows(Some("https://app.myapp.com")));
/// assert!(!policy.allows(Some("https://evilmyapp.com")));
/// assert!(!policy.allows(Some("https://myapp.com.evil.com")));
/// assert!(!policy.allows(None)); // no Origin: denied unless allowed explicitly
/// assert!(policy.allow_missing(true).allows(None));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OriginPolicy {
    patterns: Option<Vec<Pattern>>,
    allow_missing: bool,
}

/// An origin pattern that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid origin pattern `{pattern}`: {reason}")]
pub struct OriginError {
    /// The pattern as given.
    pub pattern: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Pattern {
    scheme: String,
    /// For a wildcard, the part after `*.` (e.g. `myapp.com`).
    host: String,
    wildcard: bool,
    port: Option<u16>,
}

/// A parsed `Origin` header value.
struct Origin {
    scheme: String,
    host: String,
    port: Option<u16>,
}

impl OriginPolicy {
    /// Any origin, and requests without one: what a server that is not reached from
    /// browsers wants. The default.
    pub fn any() -> Self {
        Self {
            patterns: None,
            allow_missing: true,
        }
    }

    /// Only these origins (exact, or `scheme://*.domain` wildcards). Requests without an
    /// `Origin` are denied until [`OriginPolicy::allow_missing`] says otherwise.
    pub fn allow<I, S>(origins: I) -> Result<Self, OriginError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let patterns = origins
            .into_iter()
            .map(|origin| Pattern::parse(origin.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            patterns: Some(patterns),
            allow_missing: false,
        })
    }

    /// Whether requests without an `Origin` header (non-browser clients) are let through.
    pub fn allow_missing(mut self, allow: bool) -> Self {
        self.allow_missing = allow;
        self
    }

    /// Whether this policy lets any origin through (no allowlist).
    pub fn is_any(&self) -> bool {
        self.patterns.is_none()
    }

    /// Whether a request with this `Origin` header (or none) may pass.
    pub fn allows(&self, origin: Option<&str>) -> bool {
        let Some(origin) = origin else {
            return self.allow_missing;
        };
        let Some(patterns) = &self.patterns else {
            return true;
        };
        match Origin::parse(origin) {
            Some(origin) => patterns.iter().any(|pattern| pattern.matches(&origin)),
            None => false,
        }
    }
}

impl Default for OriginPolicy {
    fn default() -> Self {
        Self::any()
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    }
}

/// Splits `scheme://host[:port]`; `None` for anything else (paths, userinfo, empty host).
fn split(text: &str) -> Option<(String, String, Option<u16>)> {
    let (scheme, rest) = text.split_once("://")?;
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    {
        return None;
    }
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
        return None;
    }
    let scheme = scheme.to_ascii_lowercase();
    let (host, port) = match rest.rsplit_once(':') {
        // After a `]` the last `:` is inside an IPv6 literal (`[::1]`), not before a port.
        Some((host, port)) if !port.contains(']') => {
            // Digits only: `u16::from_str` would also take a sign (`+80`).
            if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (host, Some(port.parse::<u16>().ok()?))
        }
        _ => (rest, None),
    };
    if host.is_empty() || host.starts_with('.') || host.ends_with('.') || host.contains("..") {
        return None;
    }
    // A `:` in the host is only an IPv6 literal's: `a:b:80` would otherwise be host `a:b`.
    if host.contains(':') && !(host.starts_with('[') && host.ends_with(']')) {
        return None;
    }
    let port = port.filter(|port| Some(*port) != default_port(&scheme));
    Some((scheme, host.to_ascii_lowercase(), port))
}

impl Origin {
    fn parse(text: &str) -> Option<Self> {
        let (scheme, host, port) = split(text.trim())?;
        if host.contains('*') {
            return None;
        }
        Some(Self { scheme, host, port })
    }
}

impl Pattern {
    fn parse(text: &str) -> Result<Self, OriginError> {
        let invalid = |reason| OriginError {
            pattern: text.to_owned(),
            reason,
        };
        let (scheme, host, port) = split(text.trim())
            .ok_or_else(|| invalid("expected `scheme://host[:port]` with no path"))?;
        let (host, wildcard) = match host.strip_prefix("*.") {
            Some(domain) => (domain.to_owned(), true),
            None => (host, false),
        };
        if host.contains('*') {
            return Err(invalid(
                "a wildcard may only be a whole first label, as in `https://*.example.com`",
            ));
        }
        if wildcard && !host.contains('.') {
            return Err(invalid(
                "a wildcard needs a domain with at least two labels after `*.`",
            ));
        }
        Ok(Self {
            scheme,
            host,
            wildcard,
            port,
        })
    }

    fn matches(&self, origin: &Origin) -> bool {
        if origin.scheme != self.scheme || origin.port != self.port {
            return false;
        }
        if !self.wildcard {
            return origin.host == self.host;
        }
        // One or more whole labels, then a dot, then the domain: the dot boundary is what
        // keeps `evilmyapp.com` out.
        origin
            .host
            .strip_suffix(self.host.as_str())
            .and_then(|prefix| prefix.strip_suffix('.'))
            .is_some_and(|labels| !labels.is_empty())
    }
}

impl fmt::Display for OriginPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.patterns {
            None => f.write_str("any origin"),
            Some(patterns) => {
                let list: Vec<String> = patterns
                    .iter()
                    .map(|p| {
                        let port = p.port.map(|port| format!(":{port}")).unwrap_or_default();
                        let star = if p.wildcard { "*." } else { "" };
                        format!("{}://{star}{}{port}", p.scheme, p.host)
                    })
                    .collect();
                write!(f, "{}", list.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seeds() -> OriginPolicy {
        OriginPolicy::allow([
            "http://localhost:3000",
            "https://myapp.com",
            "https://www.myapp.com",
        ])
        .unwrap()
    }

    #[test]
    fn exact_origins() {
        let policy = seeds();
        assert!(policy.allows(Some("http://localhost:3000")));
        assert!(policy.allows(Some("https://myapp.com")));
        assert!(policy.allows(Some("HTTPS://MyApp.com")));
        assert!(policy.allows(Some("https://myapp.com:443")));
        assert!(!policy.allows(Some("http://localhost:3001")));
        assert!(!policy.allows(Some("http://myapp.com")));
        assert!(!policy.allows(Some("https://app.myapp.com")));
        assert!(!policy.allows(None));
    }

    #[test]
    fn wildcards_match_at_a_dot_boundary_only() {
        let policy = OriginPolicy::allow(["https://*.myapp.com"]).unwrap();
        assert!(policy.allows(Some("https://a.myapp.com")));
        assert!(policy.allows(Some("https://a.b.myapp.com")));
        assert!(!policy.allows(Some("https://myapp.com")));
        assert!(!policy.allows(Some("https://evilmyapp.com")));
        assert!(!policy.allows(Some("https://myapp.com.evil.com")));
        assert!(!policy.allows(Some("https://a.myapp.com.evil.com")));
        assert!(!policy.allows(Some("http://a.myapp.com")));
        assert!(!policy.allows(Some("https://a.myapp.com:8443")));
    }

    #[test]
    fn malformed_origins_are_denied() {
        let policy = seeds();
        for origin in [
            "",
            "null",
            "https://",
            "https://myapp.com/",
            "https://myapp.com/path",
            "https://user@myapp.com",
            "myapp.com",
            "https://myapp.com:99999",
            "https://*.myapp.com",
            "https://myapp.com.",
            "https://myapp..com",
        ] {
            assert!(!policy.allows(Some(origin)), "{origin:?} must be denied");
        }
    }

    #[test]
    fn bad_patterns_are_rejected() {
        for pattern in [
            "myapp.com",
            "https://myapp.com/path",
            "https://a.*.com",
            "https://*.com",
            "https://*",
        ] {
            assert!(
                OriginPolicy::allow([pattern]).is_err(),
                "{pattern:?} must not parse"
            );
        }
    }

    // Found by fuzzing (`origins`): `http://[8::1]:080` displayed as `http://[8::1]`, which
    // did not parse, because a `:` inside the brackets was taken for a port's.
    #[test]
    fn ipv6_literals_parse_with_and_without_a_port() {
        let policy = OriginPolicy::allow(["http://[8::1]:080", "https://*.a.b.example"]).unwrap();
        let shown = policy.to_string();
        assert_eq!(shown, "http://[8::1], https://*.a.b.example");
        assert_eq!(OriginPolicy::allow(shown.split(", ")).unwrap(), policy);
        let local = OriginPolicy::allow(["http://[::1]"]).unwrap();
        assert!(local.allows(Some("http://[::1]")));
        assert!(local.allows(Some("http://[::1]:80")));
        assert!(!local.allows(Some("http://[::1]:8080")));
    }

    #[test]
    fn a_port_is_digits_and_a_host_has_no_bare_colon() {
        for pattern in ["http://a:b:80", "http://a:+80", "http://a:", "http://::1"] {
            assert!(
                OriginPolicy::allow([pattern]).is_err(),
                "{pattern:?} must not parse"
            );
        }
    }

    #[test]
    fn any_allows_everything() {
        let policy = OriginPolicy::any();
        assert!(policy.allows(Some("https://anything.example")));
        assert!(policy.allows(None));
    }
}
