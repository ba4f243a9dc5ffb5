//! On errors: the errors, plus the user's item with our attributes stripped, so
//! rust-analyzer keeps working and no follow-on "cannot find" errors drown the real ones.

use proc_macro2::TokenStream;
use quote::quote;

use crate::errors::Errors;
use crate::model::ActorModel;

/// The errors and the impl block (whose method attributes were already removed), plus,
/// when the impl block could be read, a stand-in `Actor` impl (see `expand::stub`).
pub fn impl_block(errors: Errors, item: syn::ItemImpl, model: Option<&ActorModel>) -> TokenStream {
    let stub = model.map(crate::expand::stub::expand);
    match errors.finish() {
        Err(error) => {
            let out = item_tokens(error, quote!(#item));
            quote!(#out #stub)
        }
        Ok(()) => quote!(#item #stub),
    }
}

/// The error and an item as given.
pub fn item(error: syn::Error, item: TokenStream) -> TokenStream {
    item_tokens(error, item)
}

fn item_tokens(error: syn::Error, item: TokenStream) -> TokenStream {
    let error = error.into_compile_error();
    quote! {
        #error
        #item
    }
}
