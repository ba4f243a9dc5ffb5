//! `impl Actor for ChatRoom`: the hooks forwarded to the user's methods and `dispatch`, an
//! exhaustive `match` on the typed call.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::{Names, call_user, into_result, into_unit_result, krate, private};
use crate::model::ActorModel;
use crate::model::kind::Kind;

pub fn expand(model: &ActorModel, names: &Names) -> TokenStream {
    let krate = krate();
    let private = private();
    let self_ty = &model.self_ty;
    let ctx = quote!(ctx);
    let Names {
        action,
        call,
        ret,
        methods,
        decl,
        ..
    } = names;

    let input_ty = model
        .hook(Kind::CreateState)
        .and_then(|hook| hook.sig.params.first())
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
    let reads_params =
        model.hook(Kind::BeforeConnect).is_some() || model.hook(Kind::ConnState).is_some();
    let conn_state_ty = model.hook(Kind::ConnState).map_or_else(
        || quote!(()),
        |hook| {
            let ty = hook.value_type();
            quote!(#ty)
        },
    );
    let vars_ty = model.hook(Kind::CreateVars).map_or_else(
        || quote!(()),
        |hook| {
            let ty = hook.value_type();
            quote!(#ty)
        },
    );

    let create_state = match model.hook(Kind::CreateState) {
        Some(hook) => {
            let args: Vec<TokenStream> = if hook.sig.params.is_empty() {
                vec![]
            } else {
                vec![quote!(input)]
            };
            let body = into_result(hook, call_user(hook, Some(&ctx), &args));
            quote!(#body)
        }
        None => {
            let span = self_ty.span();
            quote_spanned!(span=> ::core::result::Result::Ok(<Self as #private::DefaultState>::default_state()))
        }
    };
    let create_vars = match model.hook(Kind::CreateVars) {
        Some(hook) => into_result(hook, call_user(hook, Some(&ctx), &[])),
        None => quote!(::core::result::Result::Ok(())),
    };
    // `#[conn_state]`'s params: when both connect hooks read them, its go through
    // `SameParams`, which says so at its type if the two disagree.
    let conn_state_args = match (
        model.params_of(Kind::BeforeConnect),
        model.params_of(Kind::ConnState),
    ) {
        (_, None) => vec![],
        (None, Some(_)) => vec![quote!(params)],
        (Some(first), Some(second)) => vec![quote_spanned! {second.span()=>
            <#second as #private::SameParams<#first>>::same(params)
        }],
    };
    let conn_state_hook = model.hook(Kind::ConnState);
    let conn_state_detached = conn_state_hook.is_some_and(detached);
    let conn_state = match conn_state_hook {
        // Run outside the turn (`conn_state_detached`): never asked for in it.
        Some(_) if conn_state_detached => quote!(::core::result::Result::Err(
            #krate::Error::internal("conn_state runs outside the turn")
        )),
        Some(hook) => into_result(hook, call_user(hook, Some(&ctx), &conn_state_args)),
        None => quote!(::core::result::Result::Ok(())),
    };

    let mut hooks = Vec::new();
    if let Some(hook) = model.hook(Kind::OnMigrate) {
        let body = into_result(hook, call_user(hook, None, &[quote!(old)]));
        hooks.push(quote! {
            fn on_migrate(
                old: #krate::value::Value,
            ) -> ::core::option::Option<impl ::core::future::Future<Output = ::core::result::Result<Self, #krate::Error>> + ::core::marker::Send> {
                ::core::option::Option::Some(async move { #body })
            }
        });
    }
    for (kind, name) in [
        (Kind::OnCreate, quote!(on_create)),
        (Kind::OnWake, quote!(on_wake)),
        (Kind::OnSleep, quote!(on_sleep)),
        (Kind::OnDestroy, quote!(on_destroy)),
    ] {
        if let Some(hook) = model.hook(kind) {
            let body = into_unit_result(hook, call_user(hook, Some(&ctx), &[]));
            hooks.push(quote! {
                async fn #name(
                    &mut self,
                    ctx: &mut #krate::ActorCtx<'_, Self>,
                ) -> ::core::result::Result<(), #krate::Error> {
                    #body
                }
            });
        }
    }
    if let Some(hook) = model.hook(Kind::OnStateChange) {
        let call = call_user(hook, Some(&ctx), &[]);
        hooks.push(quote! {
            const HAS_ON_STATE_CHANGE: bool = true;

            async fn on_state_change(&self, ctx: &#krate::ActorCtx<'_, Self>) {
                #call;
            }
        });
    }
    if let Some(hook) = conn_state_hook.filter(|hook| detached(hook)) {
        let body = into_result(hook, call_user(hook, Some(&ctx), &conn_state_args));
        hooks.push(quote! {
            const CONN_STATE_DETACHED: bool = true;

            #[allow(unused_variables)]
            async fn conn_state_detached(
                ctx: &#krate::context::PreConnectCtx<'_, Self>,
                params: &Self::ConnParams,
            ) -> ::core::result::Result<::core::option::Option<Self::ConnState>, #krate::Error> {
                (#body).map(::core::option::Option::Some)
            }
        });
    }
    if let Some(hook) = model.hook(Kind::BeforeConnect) {
        let args = if hook.sig.params.is_empty() {
            vec![]
        } else {
            vec![quote!(params)]
        };
        let body = into_result(hook, call_user(hook, Some(&ctx), &args));
        if detached(hook) {
            hooks.push(quote! {
                const BEFORE_CONNECT_DETACHED: bool = true;

                #[allow(unused_variables)]
                async fn before_connect_detached(
                    ctx: &#krate::context::PreConnectCtx<'_, Self>,
                    params: &Self::ConnParams,
                ) -> ::core::result::Result<(), #krate::Error> {
                    #body
                }
            });
        } else {
            hooks.push(quote! {
                #[allow(unused_variables)]
                async fn before_connect(
                    &self,
                    ctx: &mut #krate::ConnectCtx<'_, Self>,
                    params: &Self::ConnParams,
                ) -> ::core::result::Result<(), #krate::Error> {
                    #body
                }
            });
        }
    }
    for (kind, name) in [
        (Kind::OnConnect, quote!(on_connect)),
        (Kind::OnDisconnect, quote!(on_disconnect)),
    ] {
        if let Some(hook) = model.hook(kind) {
            let body = into_unit_result(hook, call_user(hook, Some(&ctx), &[]));
            if mutates(hook) {
                let flag = match kind {
                    Kind::OnConnect => quote!(ON_CONNECT_MUTATES),
                    _ => quote!(ON_DISCONNECT_MUTATES),
                };
                hooks.push(quote!(const #flag: bool = true;));
            }
            hooks.push(quote! {
                async fn #name(
                    &mut self,
                    ctx: &mut #krate::ActionCtx<'_, Self>,
                ) -> ::core::result::Result<(), #krate::Error> {
                    #body
                }
            });
        }
    }
    if let Some(hook) = model.hook(Kind::CanInvoke) {
        let call = call_user(hook, Some(&ctx), &[quote!(invoke)]);
        hooks.push(quote! {
            async fn can_invoke(
                &self,
                ctx: &#krate::ConnCtx<'_, Self>,
                invoke: #krate::Invoke<Self>,
            ) -> bool {
                #call
            }
        });
    }

    for (kind, method, enum_ty, arg) in [
        (
            Kind::CanSubscribe,
            quote!(can_subscribe),
            quote!(Event),
            quote!(event),
        ),
        (
            Kind::CanPublish,
            quote!(can_publish),
            quote!(Queue),
            quote!(queue),
        ),
    ] {
        let arms: Vec<TokenStream> = model
            .hooks(kind)
            .filter_map(|hook| {
                let target = hook.target.as_ref()?;
                let variant = crate::names::ident(
                    &crate::names::upper_camel(&crate::names::plain(target)),
                    target.span(),
                );
                let call = call_user(hook, Some(&ctx), &[]);
                // The variant is spanned at the user's target: an undeclared one is
                // reported there.
                let pattern = quote_spanned!(target.span()=> #decl::#enum_ty::#variant);
                Some(quote!(#pattern => #call,))
            })
            .collect();
        if !arms.is_empty() {
            hooks.push(quote! {
                #[allow(unreachable_patterns, unused_variables)]
                async fn #method(
                    &self,
                    ctx: &#krate::ConnCtx<'_, Self>,
                    #arg: <Self as #krate::Actor>::#enum_ty,
                ) -> bool {
                    match #arg {
                        #(#arms)*
                        _ => true,
                    }
                }
            });
        }
    }
    if let Some(hook) = model.hook(Kind::OnRequest) {
        let body = into_result(hook, call_user(hook, Some(&ctx), &[quote!(request)]));
        if mutates(hook) {
            hooks.push(quote!(
                const ON_REQUEST_MUTATES: bool = true;
            ));
        }
        hooks.push(quote! {
            const HANDLES_REQUESTS: bool = true;

            #[allow(unused_variables)]
            async fn on_request(
                &mut self,
                ctx: &mut #krate::ActionCtx<'_, Self>,
                request: #krate::raw::RawRequest,
            ) -> ::core::result::Result<#krate::raw::RawResponse, #krate::Error> {
                #body
            }
        });
    }
    if let Some(hook) = model.hook(Kind::OnWebSocket) {
        let body = into_unit_result(hook, call_user(hook, Some(&ctx), &[quote!(socket)]));
        if mutates(hook) {
            hooks.push(quote!(
                const ON_WEBSOCKET_MUTATES: bool = true;
            ));
        }
        hooks.push(quote! {
            const HANDLES_WEBSOCKETS: bool = true;

            #[allow(unused_variables)]
            async fn on_websocket(
                &mut self,
                ctx: &mut #krate::ActionCtx<'_, Self>,
                socket: #krate::raw::RawWebSocket,
            ) -> ::core::result::Result<(), #krate::Error> {
                #body
            }
        });
    }
    if let Some(hook) = model.hook(Kind::Run) {
        let body = into_unit_result(hook, call_user(hook, Some(&ctx), &[]));
        hooks.push(quote! {
            const HAS_RUN: bool = true;

            #[allow(unused_variables)]
            async fn run(
                ctx: #krate::queue::RunCtx<Self>,
            ) -> ::core::result::Result<(), #krate::Error> {
                #body
            }
        });
    }

    let arms = model.actions().map(|action| {
        let variant = action.variant();
        let vars: Vec<_> = (0..action.sig.params.len())
            .map(|i| quote::format_ident!("a{i}"))
            .collect();
        let args: Vec<TokenStream> = vars.iter().map(|var| quote!(#var)).collect();
        let called = call_user(action, Some(&ctx), &args);
        let result = if action.returns_result() {
            let result = into_result(action, called);
            quote!(#result.map(#ret::#variant))
        } else {
            quote!(::core::result::Result::Ok(#ret::#variant(#called)))
        };
        quote! {
            #call::#variant((#(#vars,)*)) => #result,
        }
    });
    let describe = super::describe::expand(model, names);
    let dispatch_body = if model.actions().next().is_none() {
        quote!(match call {})
    } else {
        quote!(match call { #(#arms)* })
    };

    quote! {
        #[allow(private_interfaces, private_bounds, clippy::needless_question_mark, clippy::unit_arg)]
        impl #krate::Actor for #self_ty {
            const NAME: &'static str = #decl::NAME;
            const READS_PARAMS: bool = #reads_params;
            type Input = #input_ty;
            type ConnParams = #params_ty;
            type ConnState = #conn_state_ty;
            type Vars = #vars_ty;
            type Action = #action;
            type Event = #decl::Event;
            type Queue = #decl::Queue;
            type Call = #call;
            type Return = #ret;
            type Methods<I: #krate::Invoker<Self>> = #methods<I>;

            #[allow(unused_variables)]
            async fn create_state(
                ctx: &#krate::CreateCtx<'_>,
                input: Self::Input,
            ) -> ::core::result::Result<Self, #krate::Error> {
                #create_state
            }

            #[allow(unused_variables)]
            async fn create_vars(
                &self,
                ctx: &#krate::CreateCtx<'_>,
            ) -> ::core::result::Result<Self::Vars, #krate::Error> {
                #create_vars
            }

            #[allow(unused_variables)]
            async fn conn_state(
                &self,
                ctx: &mut #krate::ConnectCtx<'_, Self>,
                params: &Self::ConnParams,
            ) -> ::core::result::Result<Self::ConnState, #krate::Error> {
                #conn_state
            }

            #(#hooks)*

            #describe

            #[allow(unused_variables)]
            async fn dispatch(
                &mut self,
                ctx: &mut #krate::ActionCtx<'_, Self>,
                call: Self::Call,
            ) -> ::core::result::Result<Self::Return, #krate::Error> {
                #dispatch_body
            }
        }
    }
}

/// Whether a connect hook takes no `self`: it then runs outside the actor's turn.
fn detached(hook: &crate::model::Method) -> bool {
    matches!(hook.sig.receiver, crate::model::sig::Receiver::None)
}

/// Whether the hook takes `&mut self`: only then can its turn change the state, and the
/// runtime encodes and compares the state after it.
fn mutates(hook: &crate::model::Method) -> bool {
    matches!(
        hook.sig.receiver,
        crate::model::sig::Receiver::Ref { mutable: true, .. }
    )
}
