// Options on the impl block while the struct carries a bare `#[actor]`.
use rivet_actor::prelude::*;
use rivet_actor::Target;

#[derive(Serialize, Deserialize)]
struct Beep;

#[actor]
#[derive(Default, Serialize, Deserialize)]
struct Beeper;

#[actor(name = "beeper2", events(beep = Beep))]
impl Beeper {
    #[action]
    fn beep(&self, c: &ActionCtx<'_, Self>) {
        c.broadcast(Beep);
    }
}

fn main() {
    assert_eq!(<Beeper as Actor>::NAME, "beeper2");
    assert_eq!(BeeperEvent::Beep.name(), "beep");
}
