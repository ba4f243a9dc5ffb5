//! The actor as the user wrote it: options, actions and hooks, each keeping the user's
//! syn nodes so errors and generated code can point at them. `parse` builds it; `validate`,
//! `expand` and `fallback` only read it.

pub mod kind;
pub mod options;
pub mod sig;
pub mod ty;

use proc_macro2::Span;
use syn::{Attribute, Ident, LitStr, Type};

use crate::names;
use kind::Kind;
use options::Options;
use sig::Sig;

/// One method of the impl block carrying one of our attributes.
pub struct Method {
    pub kind: Kind,
    /// The attribute's name token (`action` in `#[action]`).
    pub attr: Ident,
    /// `#[action(name = "..")]`.
    pub wire_name: Option<LitStr>,
    /// `#[can_subscribe(event)]` / `#[can_publish(queue)]`: the item it gates.
    pub target: Option<Ident>,
    /// The method's doc comments (copied to the client method).
    pub docs: Vec<Attribute>,
    pub sig: Sig,
}

impl Method {
    /// The action's wire name.
    pub fn wire(&self) -> String {
        match &self.wire_name {
            Some(lit) => lit.value(),
            None => names::lower_camel(&names::plain(&self.sig.ident)),
        }
    }

    /// The variant naming this action in the generated enums.
    pub fn variant(&self) -> Ident {
        let text = names::upper_camel(&names::plain(&self.sig.ident));
        names::ident(&text, self.sig.ident.span())
    }

    /// The value type: `T` of `-> T` or `-> Result<T, E>`; `()` when nothing is written.
    pub fn value_type(&self) -> Type {
        match &self.sig.output {
            None => syn::parse_quote!(()),
            Some(ty) => match ty::result_ok(ty) {
                Some(Some(ok)) => ok.clone(),
                Some(None) => syn::parse_quote!(()),
                None => ty.clone(),
            },
        }
    }

    /// Whether the method returns a `Result`.
    pub fn returns_result(&self) -> bool {
        self.sig
            .output
            .as_ref()
            .is_some_and(|ty| ty::result_ok(ty).is_some())
    }

    /// The span errors about the whole method point at.
    pub fn span(&self) -> Span {
        self.sig.ident.span()
    }
}

/// The annotated impl block.
pub struct ActorModel {
    /// The state type (`ChatRoom`).
    pub self_ty: Type,
    /// Its name, which generated items are named after.
    pub ident: Ident,
    pub options: Options,
    pub methods: Vec<Method>,
    /// Generic parameters of the impl block, if any (spans the first).
    pub generics: Option<Span>,
}

impl ActorModel {
    /// The actions, in declaration order.
    pub fn actions(&self) -> impl Iterator<Item = &Method> {
        self.methods.iter().filter(|m| m.kind == Kind::Action)
    }

    /// Every hook of a kind (targeted hooks may appear once per target).
    pub fn hooks(&self, kind: Kind) -> impl Iterator<Item = &Method> {
        self.methods.iter().filter(move |m| m.kind == kind)
    }

    /// The (first) hook of a kind.
    pub fn hook(&self, kind: Kind) -> Option<&Method> {
        self.methods.iter().find(|m| m.kind == kind)
    }

    /// The params type `P` a connect hook takes as `&P`.
    pub fn params_of(&self, kind: Kind) -> Option<&Type> {
        let hook = self.hook(kind)?;
        match &hook.sig.params.first()?.ty {
            Type::Reference(reference) => Some(&reference.elem),
            _ => None,
        }
    }
}
