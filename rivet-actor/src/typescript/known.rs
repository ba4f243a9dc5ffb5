//! `ts-rs` behind the probes: a type's TypeScript form and the declarations it needs.

use std::any::TypeId;
use std::collections::HashSet;

use ts_rs::{Config, Dependency, TS, TypeVisitor};

use super::describe::{Clash, TsKnown, TsProbe, TypeSink};

/// JavaScript numbers carry every integer the CBOR and BARE encodings send as a number
/// (up to 2^53); ts-rs would otherwise call 64-bit integers `bigint`.
fn config() -> Config {
    Config::new().with_large_int("number")
}

impl<T: TS + ?Sized + 'static> TsKnown for TsProbe<T> {
    fn ts(&self, sink: &mut TypeSink) -> String {
        if TypeId::of::<T>() == TypeId::of::<()>() {
            return "void".to_owned();
        }
        let cfg = config();
        let mut collector = Collector {
            cfg: &cfg,
            sink,
            seen: HashSet::new(),
        };
        collector.visit::<T>();
        T::name(&cfg)
    }
}

/// Declares every named type reachable from the probed one.
struct Collector<'a> {
    cfg: &'a Config,
    sink: &'a mut TypeSink,
    seen: HashSet<TypeId>,
}

impl TypeVisitor for Collector<'_> {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        if !self.seen.insert(TypeId::of::<T>()) {
            return;
        }
        if Dependency::from_ty::<T>(self.cfg).is_some() {
            let name = T::ident(self.cfg);
            let decl = format!("export {}", T::decl(self.cfg));
            let rust_name = std::any::type_name::<T>();
            match self.sink.decls.get(&name) {
                None => {
                    self.sink.rust_names.insert(name.clone(), rust_name);
                    self.sink.decls.insert(name, decl);
                }
                // The same type, or another instance of the same generic declaration.
                Some(known) if *known == decl => {}
                Some(_) => self.sink.clashes.push(Clash {
                    name,
                    rust_name,
                    decl,
                }),
            }
        }
        T::visit_dependencies(self);
        T::visit_generics(self);
    }
}
