//! `Actor::describe`: the actor's actions (parameter names and types, result type) and,
//! through the options module, its declared events and queues — what
//! `Registry::typescript` turns into TypeScript. Each type is probed where it is written
//! (`TsProbe::<T>`), so a type without a TypeScript form becomes `unknown` instead of an
//! error.

use proc_macro2::TokenStream;
use quote::quote;

use super::calls::{arg_types, value_type};
use super::{Names, krate, private};
use crate::model::ActorModel;
use crate::names;

pub fn expand(model: &ActorModel, names: &Names) -> TokenStream {
    let krate = krate();
    let private = private();
    let decl = &names.decl;
    let actions = model.actions().map(|action| {
        let wire = action.wire();
        let params = arg_types(model, action)
            .into_iter()
            .zip(&action.sig.params)
            .map(|(ty, param)| {
                let name = names::plain(&param.name);
                quote!((#name, (&#private::TsProbe::<#ty>::new()).ts(&mut d.types)))
            });
        let output = value_type(model, action);
        quote! {
            let params = ::std::vec![#(#params),*];
            let output = (&#private::TsProbe::<#output>::new()).ts(&mut d.types);
            d.action(#wire, params, output);
        }
    });
    quote! {
        #[allow(unused_variables)]
        fn describe(d: &mut #krate::typescript::Describe) {
            #[allow(unused_imports)]
            use #private::{TsKnown as _, TsUnknown as _};
            #(#actions)*
            <Self as #private::DeclaredTypes<#decl::Provider>>::describe(d);
        }
    }
}
