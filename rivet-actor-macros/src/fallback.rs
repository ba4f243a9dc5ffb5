//! On errors: the errors, plus the user's item with our attributes stripped, so
//! rust-analyzer keeps working and no follow-on "cannot find" errors drown the real ones.

use proc_macro2::TokenStream;
use quote::quote;

use crate::errors::Errors;

/// The errors and the impl block (whose method attributes were already removed).
pub fn impl_block(errors: Errors, item: syn::ItemImpl) -> TokenStream {
    match errors.finish() {
        Err(error) => item_tokens(error, quote!(#item)),
        Ok(()) => quote!(#item),
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
