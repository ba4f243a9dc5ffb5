//! Parsing `#[actor(name = "..", events(..), queues(..), origins = [..])]` into the model's
//! [`Options`].

use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Ident, LitStr, Token, Type};

use crate::errors::Errors;
use crate::model::options::{EventDecl, Limits, Options, QueueDecl};

const VALID: &str = "expected `name = \"..\"`, `events(..)`, `queues(..)`, `origins = [..]`, `allow_no_origin = true|false`, `sleep_timeout_ms = ..`, `no_sleep`, `action_timeout_ms = ..`, `max_queue_size = ..`, `max_queue_message_size = ..`, `wait_until_timeout_ms = ..`, `connect_hook_timeout_ms = ..` or `lifecycle_hook_timeout_ms = ..`";

/// Parses the attribute's arguments; a syntax error stops parsing (it is recorded).
pub fn parse(args: TokenStream, errors: &mut Errors) -> Options {
    let mut options = Options::default();
    if args.is_empty() {
        return options;
    }
    options.span = Some(first_span(&args));
    let mut seen: Vec<String> = Vec::new();
    let parser = syn::meta::parser(|meta| {
        let key = meta
            .path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default();
        if seen.contains(&key) {
            return Err(meta.error(format!("option `{key}` is given twice")));
        }
        match key.as_str() {
            "name" => {
                let lit: LitStr = meta.value()?.parse()?;
                if lit.value().is_empty() {
                    return Err(syn::Error::new(
                        lit.span(),
                        "the actor name cannot be empty",
                    ));
                }
                options.name = Some(lit);
            }
            "events" => {
                meta.parse_nested_meta(|inner| {
                    let ident = decl_ident(&inner.path, "event")?;
                    if !inner.input.peek(Token![=]) {
                        return Err(inner.error(format!(
                            "expected `{ident} = EventType`: each event is declared with its payload type"
                        )));
                    }
                    let ty: Type = inner.value()?.parse()?;
                    options.events.push(EventDecl { ident, ty });
                    Ok(())
                })?;
            }
            "queues" => {
                meta.parse_nested_meta(|inner| {
                    let ident = decl_ident(&inner.path, "queue")?;
                    if !inner.input.peek(Token![=]) {
                        return Err(inner.error(format!(
                            "expected `{ident} = MessageType` or `{ident} = MessageType -> CompletionType`"
                        )));
                    }
                    let value = inner.value()?;
                    let ty: Type = value.parse()?;
                    let completion = if value.peek(Token![->]) {
                        value.parse::<Token![->]>()?;
                        Some(value.parse::<Type>()?)
                    } else {
                        None
                    };
                    options.queues.push(QueueDecl {
                        ident,
                        ty,
                        completion,
                    });
                    Ok(())
                })?;
            }
            "origins" => {
                let value = meta.value()?;
                if !value.peek(syn::token::Bracket) {
                    return Err(value.error(
                        "expected a list of allowed origins: `origins = [\"https://a.com\", \"https://*.b.com\"]`",
                    ));
                }
                let content;
                syn::bracketed!(content in value);
                let list = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?;
                options.origins = Some(list.into_iter().collect());
            }
            "allow_no_origin" => {
                let value = meta.value()?;
                options.allow_no_origin = Some(value.parse().map_err(|_| {
                    value.error("expected `allow_no_origin = true` or `allow_no_origin = false`")
                })?);
            }
            "sleep_timeout_ms" | "action_timeout_ms" => {
                let lit: syn::LitInt = meta.value()?.parse().map_err(|err| {
                    syn::Error::new(
                        err.span(),
                        format!("expected milliseconds as an integer: `{key} = 60_000`"),
                    )
                })?;
                let ms: u64 = lit.base10_parse()?;
                if key == "action_timeout_ms" {
                    if ms == 0 {
                        return Err(syn::Error::new(
                            lit.span(),
                            "an action timeout of 0 ms cuts off every action; give at least 1",
                        ));
                    }
                    options.action_timeout_ms = Some(ms);
                } else {
                    if ms == 0 {
                        return Err(syn::Error::new(
                            lit.span(),
                            "a sleep timeout of 0 ms puts the actor to sleep after every turn; give at least 1, or `no_sleep` to keep it awake",
                        ));
                    }
                    options.sleep_timeout_ms = Some(ms);
                }
            }
            key if Limits::KEYS.contains(&key) => {
                let example = match key.ends_with("_ms") {
                    true => format!("expected milliseconds as an integer: `{key} = 5_000`"),
                    false => format!("expected a number: `{key} = 1_000`"),
                };
                let lit: syn::LitInt = meta
                    .value()?
                    .parse()
                    .map_err(|err| syn::Error::new(err.span(), example))?;
                let n: u64 = lit.base10_parse()?;
                if n == 0 {
                    return Err(syn::Error::new(
                        lit.span(),
                        format!("`{key} = 0` leaves nothing to work with; give at least 1"),
                    ));
                }
                if let Some(slot) = options.limits.slot(key) {
                    *slot = Some(n);
                }
            }
            "no_sleep" => {
                options.no_sleep = if meta.input.peek(Token![=]) {
                    let value = meta.value()?;
                    let lit: syn::LitBool = value.parse().map_err(|_| {
                        value.error("expected `no_sleep` or `no_sleep = true|false`")
                    })?;
                    lit.value
                } else {
                    true
                };
            }
            _ => {
                let shown = path_text(&meta.path);
                return Err(meta.error(format!("unknown actor option `{shown}`; {VALID}")));
            }
        }
        seen.push(key);
        Ok(())
    });
    if let Err(error) = parser.parse2(args) {
        errors.push(error);
    }
    if options.no_sleep
        && options.sleep_timeout_ms.is_some()
        && let Some(span) = options.span
    {
        errors.at(
            span,
            "`no_sleep` and `sleep_timeout_ms` contradict each other: keep one",
        );
    }
    options
}

fn decl_ident(path: &syn::Path, what: &str) -> syn::Result<Ident> {
    path.get_ident().cloned().ok_or_else(|| {
        syn::Error::new(
            path.span(),
            format!("expected `{what}_name = Type`, with a snake_case name"),
        )
    })
}

fn path_text(path: &syn::Path) -> String {
    path.segments
        .iter()
        .map(|segment| segment.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}

fn first_span(tokens: &TokenStream) -> Span {
    tokens
        .clone()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |tt| tt.span())
}
