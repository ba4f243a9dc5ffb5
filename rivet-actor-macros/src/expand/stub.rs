//! On errors, beside the user's impl block: the target enums and an `Actor` impl whose
//! associated types follow the hooks, so the user's own methods (`Invoke<Self>`,
//! `ActionCtx<'_, Self>`, `c.conn().state()`, `RoomAction::..`) still type-check and only
//! the real errors are reported. Its bodies never run: the crate does not compile.

use proc_macro2::TokenStream;
use quote::quote;

use super::{Names, krate, options, private, targets};
use crate::model::ActorModel;
use crate::model::kind::Kind;

pub fn expand(model: &ActorModel) -> TokenStream {
    let krate = krate();
    let private = private();
    let names = Names::new(&model.ident);
    let self_ty = &model.self_ty;
    let actions = targets::actions(model, &names);
    let options = options::impl_side(model, &names);
    let (action, decl) = (&names.action, &names.decl);
    let input_ty = model
        .hook(Kind::CreateState)
        .and_then(|hook| hook.sig.params.first())
        .filter(|param| !matches!(param.ty, syn::Type::Reference(_)))
        .map_or_else(
            || quote!(#krate::NoParams),
            |param| {
                let ty = &param.ty;
                quote!(#ty)
            },
        );
    let params_ty = model
        .params_of(Kind::BeforeConnect)
        .or_else(|| model.params_of(Kind::ConnState))
        .map_or_else(|| quote!(#krate::NoParams), |ty| quote!(#ty));
    let value_of = |kind| {
        model.hook(kind).map_or_else(
            || quote!(()),
            |hook| {
                let ty = hook.value_type();
                quote!(#ty)
            },
        )
    };
    let conn_state_ty = value_of(Kind::ConnState);
    let vars_ty = value_of(Kind::CreateVars);
    quote! {
        #actions
        #options

        #[allow(unused_variables, unreachable_code)]
        impl #krate::Actor for #self_ty {
            const NAME: &'static str = #decl::NAME;
            type Input = #input_ty;
            type ConnParams = #params_ty;
            type ConnState = #conn_state_ty;
            type Vars = #vars_ty;
            type Action = #action;
            type Event = #decl::Event;
            type Queue = #decl::Queue;
            type Call = #private::NoCall;
            type Return = #private::NoReturn;
            type Methods<I: #krate::Invoker<Self>> = #private::NoMethods<I>;

            async fn create_state(
                ctx: &#krate::CreateCtx<'_>,
                input: Self::Input,
            ) -> ::core::result::Result<Self, #krate::Error> {
                ::core::unreachable!()
            }

            async fn create_vars(
                &self,
                ctx: &#krate::CreateCtx<'_>,
            ) -> ::core::result::Result<Self::Vars, #krate::Error> {
                ::core::unreachable!()
            }

            async fn conn_state(
                &self,
                ctx: &mut #krate::ConnectCtx<'_, Self>,
                params: &Self::ConnParams,
            ) -> ::core::result::Result<Self::ConnState, #krate::Error> {
                ::core::unreachable!()
            }

            async fn dispatch(
                &mut self,
                ctx: &mut #krate::ActionCtx<'_, Self>,
                call: Self::Call,
            ) -> ::core::result::Result<Self::Return, #krate::Error> {
                match call {}
            }
        }
    }
}
