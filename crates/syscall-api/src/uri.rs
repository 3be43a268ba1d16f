//! URIs as `connect`, `listen`, `unlisten` and `checkuri` take them.
//!
//! Phoenix's kernel parses `scheme:[//[user@]host[:port]][/path][?query][#fragment]` with a small
//! grammar, then picks a handler by matching the scheme against unanchored Lua patterns in an
//! undefined order. Here the grammar is checked first (any character outside it is
//! `Invalid URI`), the structure is parsed by the `url` crate, and the scheme is matched
//! **exactly and case-insensitively** against a fixed table: `http`, `https`, `ws`, `wss`,
//! `rednet`, `rednet+<letters>`, `psp`, `pdp`, plus schemes a host registers for its kernel
//! modules. Anything else is `Invalid protocol <scheme>`.
//!
//! A port above 65535 is `Invalid URI` (Phoenix's parser accepts any digits and fails later, when
//! the modem refuses the channel; no program can use such a port either way).

use std::fmt;

/// A URI scheme the stack knows how to serve.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `http`.
    Http,
    /// `https`.
    Https,
    /// `ws`.
    Ws,
    /// `wss`.
    Wss,
    /// `rednet` or `rednet+<protocol>`; the protocol becomes the rednet `sProtocol`.
    Rednet {
        /// The letters after `rednet+`, if any.
        protocol: Option<String>,
    },
    /// `psp`.
    Psp,
    /// `pdp`.
    Pdp,
    /// A scheme a host registered for a kernel module (lower case).
    Module(String),
}

impl Scheme {
    /// The scheme as written in a URI (lower case).
    pub fn as_string(&self) -> String {
        match self {
            Scheme::Http => "http".into(),
            Scheme::Https => "https".into(),
            Scheme::Ws => "ws".into(),
            Scheme::Wss => "wss".into(),
            Scheme::Rednet { protocol: None } => "rednet".into(),
            Scheme::Rednet { protocol: Some(p) } => format!("rednet+{p}"),
            Scheme::Psp => "psp".into(),
            Scheme::Pdp => "pdp".into(),
            Scheme::Module(s) => s.clone(),
        }
    }
}

/// Why a URI was refused; `Display` is Phoenix's exact error text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UriError {
    /// The text is not a URI of the grammar.
    #[error("Invalid URI")]
    Invalid,
    /// The scheme has no handler.
    #[error("Invalid protocol {0}")]
    UnknownScheme(String),
}

/// A parsed URI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uri {
    /// The handler the scheme selects.
    pub scheme: Scheme,
    /// The host (an IP, a name, or a computer ID written as an IP), if the URI has an authority.
    pub host: Option<String>,
    /// The port, if given. Not range-checked here: protocols check it (a modem channel is
    /// 0..=65535).
    pub port: Option<u32>,
    /// The path (empty if none).
    pub path: String,
    /// The query without `?`, if any.
    pub query: Option<String>,
    /// The original text, exactly as the program passed it (PSP's `network_request.uri`).
    pub text: String,
}

/// The table of schemes modules added: the only way a host extends [`parse`].
#[derive(Clone, Debug, Default)]
pub struct SchemeRegistry {
    modules: Vec<String>,
}

impl SchemeRegistry {
    /// Registers a module scheme (matched case-insensitively). Built-in schemes cannot be
    /// replaced; registering one again is a no-op. Returns whether it was added.
    pub fn register(&mut self, scheme: &str) -> bool {
        let s = scheme.to_ascii_lowercase();
        if !valid_scheme(&s) || builtin(&s).is_some() || self.modules.contains(&s) {
            return false;
        }
        self.modules.push(s);
        true
    }

    /// Whether `scheme` (lower case) was registered.
    pub fn contains(&self, scheme: &str) -> bool {
        self.modules.iter().any(|m| m == scheme)
    }
}

fn valid_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

fn builtin(s: &str) -> Option<Scheme> {
    Some(match s {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        "ws" => Scheme::Ws,
        "wss" => Scheme::Wss,
        "rednet" => Scheme::Rednet { protocol: None },
        "psp" => Scheme::Psp,
        "pdp" => Scheme::Pdp,
        _ => {
            let proto = s.strip_prefix("rednet+")?;
            if proto.is_empty() || !proto.chars().all(|c| c.is_ascii_alphabetic()) {
                return None;
            }
            Scheme::Rednet {
                protocol: Some(proto.to_string()),
            }
        }
    })
}

/// Characters the kernel's grammar allows anywhere after the scheme: unreserved, `%`,
/// sub-delims and the structural `: / ? # @ [ ]`.
fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '-' | '.'
                | '_'
                | '~'
                | '%'
                | '!'
                | '$'
                | '&'
                | '\''
                | '('
                | ')'
                | '*'
                | '+'
                | ','
                | ';'
                | '='
                | ':'
                | '/'
                | '?'
                | '#'
                | '@'
                | '['
                | ']'
        )
}

/// Parses `text` as `connect`/`listen` do.
pub fn parse(text: &str, registry: &SchemeRegistry) -> Result<Uri, UriError> {
    let (scheme_text, _) = text.split_once(':').ok_or(UriError::Invalid)?;
    if !valid_scheme(scheme_text) || !text.chars().all(allowed) {
        return Err(UriError::Invalid);
    }
    let lower = scheme_text.to_ascii_lowercase();
    let scheme = match builtin(&lower) {
        Some(s) => s,
        None if registry.contains(&lower) => Scheme::Module(lower.clone()),
        None => return Err(UriError::UnknownScheme(scheme_text.to_string())),
    };
    let url = url::Url::parse(text).map_err(|_| UriError::Invalid)?;
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_string());
    // `url` drops a port equal to the scheme's default (80 for http/ws); Phoenix keeps what was
    // written, so read the authority's port back from the text.
    let port = explicit_port(text);
    Ok(Uri {
        scheme,
        host,
        port,
        path: url.path().to_string(),
        query: url.query().map(str::to_string),
        text: text.to_string(),
    })
}

fn explicit_port(text: &str) -> Option<u32> {
    let rest = text.split_once("//")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let port = if hostport.starts_with('[') {
        hostport.rsplit_once("]:")?.1
    } else {
        hostport.rsplit_once(':')?.1
    };
    port.parse().ok()
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Uri, UriError> {
        parse(s, &SchemeRegistry::default())
    }

    #[test]
    fn scheme_table_is_exact_and_case_insensitive() {
        assert_eq!(p("psp://10.0.0.1:21").unwrap().scheme, Scheme::Psp);
        assert_eq!(p("PDP://10.0.0.1:5").unwrap().scheme, Scheme::Pdp);
        assert_eq!(p("HTTPS://example.com").unwrap().scheme, Scheme::Https);
        assert_eq!(
            p("rednet+chat://0.0.0.4").unwrap().scheme,
            Scheme::Rednet {
                protocol: Some("chat".into())
            }
        );
        assert_eq!(
            p("rednet://255.255.255.255").unwrap().scheme,
            Scheme::Rednet { protocol: None }
        );
        // Unanchored Lua patterns would have matched these; the exact table does not.
        for bad in [
            "xhttp://a",
            "httpx://a",
            "rednet+1://a",
            "rednet+://a",
            "pspx://a:1",
        ] {
            let scheme = bad.split(':').next().unwrap().to_string();
            assert_eq!(p(bad), Err(UriError::UnknownScheme(scheme)), "{bad}");
        }
        assert_eq!(
            p("gopher://a").unwrap_err().to_string(),
            "Invalid protocol gopher"
        );
    }

    #[test]
    fn grammar_errors_are_invalid_uri() {
        for bad in [
            "no-colon",
            "1psp://a",
            "psp://a b:1",
            "psp://a\"b",
            ":x",
            "psp://a:1/<",
        ] {
            assert_eq!(p(bad), Err(UriError::Invalid), "{bad}");
        }
        assert_eq!(UriError::Invalid.to_string(), "Invalid URI");
    }

    #[test]
    fn parts() {
        let u = p("psp://10.0.0.2:8080/files?x=1#frag").unwrap();
        assert_eq!(u.host.as_deref(), Some("10.0.0.2"));
        assert_eq!(u.port, Some(8080));
        assert_eq!(u.path, "/files");
        assert_eq!(u.query.as_deref(), Some("x=1"));
        assert_eq!(u.text, "psp://10.0.0.2:8080/files?x=1#frag");
        assert_eq!(p("psp://10.0.0.2").unwrap().port, None);
        assert_eq!(p("http://example.com:80/").unwrap().port, Some(80));
        assert_eq!(p("ws://user@host:81").unwrap().port, Some(81));
        assert_eq!(p("rednet:").map(|u| u.host), Ok(None));
    }

    #[test]
    fn modules_register_new_schemes_only() {
        let mut r = SchemeRegistry::default();
        assert!(r.register("Gopher"));
        assert!(!r.register("gopher"));
        assert!(!r.register("http"));
        assert!(!r.register("9bad"));
        assert_eq!(
            parse("gopher://h:70", &r).unwrap().scheme,
            Scheme::Module("gopher".into())
        );
    }
}
