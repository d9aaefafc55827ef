//! The supervisor on its own, with probe children: strategies, restart types, panics inside
//! handlers, and stop order. Real actors, real PostgreSQL for the supervision log.

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix::{Actor, ActorContext, Addr, AsyncContext, Context, Handler, Message};
use fplsync::metrics::Metrics;
use fplsync::supervisor::{
    ActorRegistry, ActorRole, Backoff, ChildLink, ChildSpec, ExitGuard, ExitReason, Intensity,
    Recorder, RestartType, StopChild, Strategy, Supervisor, SupervisorSpec,
};

use crate::helpers::{eventually, test_settings, unique_id};

/// What the probes saw, shared with the test.
#[derive(Default)]
struct Seen {
    starts: HashMap<String, u32>,
    stops: Vec<String>,
    addrs: HashMap<String, Addr<Probe>>,
}

type Shared = Arc<Mutex<Seen>>;

struct Probe {
    guard: ExitGuard,
    seen: Shared,
}

#[derive(Message)]
#[rtype(result = "()")]
enum Do {
    Fail,
    Panic,
    Finish,
}

impl Actor for Probe {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let mut seen = self.seen.lock().unwrap();
        let name = self.guard.name().to_string();
        *seen.starts.entry(name.clone()).or_default() += 1;
        seen.addrs.insert(name, ctx.address());
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.seen
            .lock()
            .unwrap()
            .stops
            .push(self.guard.name().to_string());
    }
}

impl Handler<Do> for Probe {
    type Result = ();

    fn handle(&mut self, msg: Do, ctx: &mut Context<Self>) {
        match msg {
            Do::Fail => {
                self.guard.set(ExitReason::Failed("told to fail".into()));
                ctx.stop();
            }
            Do::Panic => panic!("probe panicked inside a handler"),
            Do::Finish => {
                self.guard.set(ExitReason::Normal);
                ctx.stop();
            }
        }
    }
}

impl Handler<StopChild> for Probe {
    type Result = ();

    fn handle(&mut self, _: StopChild, ctx: &mut Context<Self>) {
        self.guard.set(ExitReason::Normal);
        ctx.stop();
    }
}

fn probe(name: &str, restart: RestartType, seen: &Shared) -> ChildSpec {
    let seen = seen.clone();
    ChildSpec {
        name: name.into(),
        role: ActorRole::Worker,
        restart,
        start: Rc::new(move |link: ChildLink| {
            Probe {
                guard: ExitGuard::new(link),
                seen: seen.clone(),
            }
            .start()
            .recipient()
        }),
    }
}

struct Tree {
    root: Addr<Supervisor>,
    seen: Shared,
    registry: ActorRegistry,
}

impl Tree {
    fn starts(&self, name: &str) -> u32 {
        self.seen
            .lock()
            .unwrap()
            .starts
            .get(name)
            .copied()
            .unwrap_or(0)
    }

    fn send(&self, name: &str, msg: Do) {
        let addr = self.seen.lock().unwrap().addrs[name].clone();
        addr.try_send(msg).unwrap();
    }

    fn state(&self, name: &str) -> String {
        let view = self.registry.view(name).unwrap();
        serde_json::to_value(view.state)
            .unwrap()
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn until(&self, what: &str, check: impl Fn(&Tree) -> bool) {
        eventually(what, Duration::from_secs(10), || async {
            check(self).then_some(())
        })
        .await;
    }
}

async fn tree(strategy: Strategy, children: &[(&str, RestartType)]) -> Tree {
    let settings = test_settings(&unique_id());
    let db = fplsync::store::connect_and_migrate(&settings.database)
        .await
        .unwrap();
    let metrics = Metrics::new();
    let recorder = Recorder::spawn(db, metrics.clone(), None);
    let registry = ActorRegistry::default();
    let seen = Shared::default();
    let spec = SupervisorSpec {
        name: "root".into(),
        strategy,
        intensity: Intensity {
            max_restarts: 3,
            period: Duration::from_secs(60),
        },
        backoff: Backoff {
            base: Duration::from_millis(10),
            cap: Duration::from_millis(40),
        },
        stop_timeout: Duration::from_secs(2),
        mailbox_capacity: 64,
        children: children.iter().map(|(n, r)| probe(n, *r, &seen)).collect(),
    };
    let root = Supervisor::root(spec, recorder, registry.clone()).start();
    let tree = Tree {
        root,
        seen,
        registry,
    };
    tree.until("every child started", |t| {
        children.iter().all(|(n, _)| t.starts(n) == 1)
    })
    .await;
    tree
}

const P: RestartType = RestartType::Permanent;

#[actix_rt::test]
async fn one_for_one_restarts_only_the_failed_child() {
    let t = tree(Strategy::OneForOne, &[("a", P), ("b", P), ("c", P)]).await;
    t.send("b", Do::Fail);
    t.until("b restarted", |t| {
        t.starts("b") == 2 && t.state("b") == "running"
    })
    .await;
    assert_eq!((t.starts("a"), t.starts("c")), (1, 1));
}

#[actix_rt::test]
async fn rest_for_one_restarts_the_failed_child_and_those_started_after_it() {
    let t = tree(Strategy::RestForOne, &[("a", P), ("b", P), ("c", P)]).await;
    t.send("b", Do::Fail);
    t.until("b and c restarted", |t| {
        t.starts("b") == 2 && t.starts("c") == 2 && t.state("c") == "running"
    })
    .await;
    assert_eq!(t.starts("a"), 1);
    // c was stopped (for b's restart) before b came back.
    assert_eq!(t.seen.lock().unwrap().stops, ["b", "c"]);
}

#[actix_rt::test]
async fn a_temporary_child_is_never_restarted() {
    let t = tree(
        Strategy::OneForOne,
        &[("a", P), ("t", RestartType::Temporary)],
    )
    .await;
    t.send("t", Do::Fail);
    t.until("t stopped", |t| t.state("t") == "stopped").await;
    // A later failure elsewhere is handled, and t stays down.
    t.send("a", Do::Fail);
    t.until("a restarted", |t| t.starts("a") == 2).await;
    assert_eq!(t.starts("t"), 1);
}

#[actix_rt::test]
async fn a_transient_child_is_restarted_after_a_failure_but_not_after_finishing() {
    let t = tree(Strategy::OneForOne, &[("x", RestartType::Transient)]).await;
    t.send("x", Do::Fail);
    t.until("x restarted", |t| {
        t.starts("x") == 2 && t.state("x") == "running"
    })
    .await;
    t.send("x", Do::Finish);
    t.until("x stopped", |t| t.state("x") == "stopped").await;
    assert_eq!(t.starts("x"), 2);
}

#[actix_rt::test]
async fn a_panic_inside_a_message_handler_is_caught_and_the_actor_restarted() {
    let t = tree(Strategy::OneForOne, &[("p", P)]).await;
    t.send("p", Do::Panic);
    t.until("p restarted", |t| {
        t.starts("p") == 2 && t.state("p") == "running"
    })
    .await;
    let failure = t.registry.view("p").unwrap().last_failure.unwrap();
    assert!(
        failure.message.contains("terminated unexpectedly"),
        "{}",
        failure.message
    );
}

#[actix_rt::test]
async fn stopping_a_supervisor_stops_its_children_in_reverse_start_order() {
    let t = tree(Strategy::OneForOne, &[("a", P), ("b", P), ("c", P)]).await;
    t.root.send(StopChild).await.unwrap();
    assert_eq!(t.seen.lock().unwrap().stops, ["c", "b", "a"]);
    for name in ["a", "b", "c"] {
        assert_eq!(t.state(name), "stopped");
    }
}
