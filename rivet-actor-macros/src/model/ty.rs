//! Questions about the types the user wrote, asked by name (the macro cannot resolve them).

use syn::{GenericArgument, Ident, PathArguments, Type};

/// The last path segment's identifier of a path type.
pub fn last_ident(ty: &Type) -> Option<&Ident> {
    match ty {
        Type::Path(path) => path.path.segments.last().map(|segment| &segment.ident),
        Type::Group(group) => last_ident(&group.elem),
        Type::Paren(paren) => last_ident(&paren.elem),
        _ => None,
    }
}

/// `Result<T, ..>` (by the last segment's name): `Some(T)`, or `Some(None)` for a `Result`
/// whose `T` cannot be read.
pub fn result_ok(ty: &Type) -> Option<Option<&Type>> {
    let Type::Path(path) = strip(ty) else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return Some(None);
    };
    Some(args.args.iter().find_map(|arg| match arg {
        GenericArgument::Type(ty) => Some(ty),
        _ => None,
    }))
}

/// The `E` of `Result<T, E>`, when written.
pub fn result_err(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = strip(ty) else {
        return None;
    };
    let last = path.path.segments.last()?;
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args
        .iter()
        .filter_map(|arg| match arg {
            GenericArgument::Type(ty) => Some(ty),
            _ => None,
        })
        .nth(1)
}

/// Whether the type is `()`.
pub fn is_unit(ty: &Type) -> bool {
    matches!(strip(ty), Type::Tuple(tuple) if tuple.elems.is_empty())
}

/// Whether the type is `bool`.
pub fn is_bool(ty: &Type) -> bool {
    matches!(strip(ty), Type::Path(path) if path.qself.is_none() && path.path.is_ident("bool"))
}

fn strip(ty: &Type) -> &Type {
    match ty {
        Type::Group(group) => strip(&group.elem),
        Type::Paren(paren) => strip(&paren.elem),
        _ => ty,
    }
}
