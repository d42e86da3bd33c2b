//! Feature `tracing`: a `task` span per task, child of the submitter's span,
//! with the task's id, name and pool; events for panics, cancellations,
//! rejections and broken pools. A capturing layer records every span and
//! event with its chain of parent spans (by name and fields, not by id:
//! ids are reused once spans close).
//!
//! Run with `cargo test -p executor-tests --features tracing --test tracing_spans`.

mod support;

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use executor::{TaskError, ThreadPoolExecutor};
use support::Gate;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// A span as recorded: its name and fields.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Node {
    name: String,
    fields: BTreeMap<String, String>,
}

impl Node {
    fn field(&self, key: &str) -> Option<&str> {
        self.fields.get(key).map(String::as_str)
    }
}

/// A span or event with the chain of spans above it, innermost first.
#[derive(Clone, Debug)]
struct Record {
    node: Node,
    ancestors: Vec<Node>,
}

impl Record {
    fn parent(&self) -> Option<&Node> {
        self.ancestors.first()
    }
}

#[derive(Clone, Default)]
struct Capture {
    spans: Arc<Mutex<Vec<Record>>>,
    events: Arc<Mutex<Vec<Record>>>,
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

/// Where a span's own fields are kept, in the registry's extensions.
struct Stored(Node);

fn chain<S>(ctx: &Context<'_, S>, from: Option<Id>) -> Vec<Node>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Some(span) = from.and_then(|id| ctx.span(&id)) else {
        return Vec::new();
    };
    span.scope()
        .map(|s| s.extensions().get::<Stored>().expect("recorded").0.clone())
        .collect()
}

impl<S> Layer<S> for Capture
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        let node = Node {
            name: attrs.metadata().name().to_owned(),
            fields,
        };
        let span = ctx.span(id).expect("a new span is registered");
        let ancestors = chain(&ctx, span.parent().map(|p| p.id()));
        span.extensions_mut().insert(Stored(node.clone()));
        self.spans.lock().unwrap().push(Record { node, ancestors });
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        let name = fields.remove("message").unwrap_or_default();
        let ancestors = chain(&ctx, ctx.event_span(event).map(|s| s.id()));
        self.events.lock().unwrap().push(Record {
            node: Node { name, fields },
            ancestors,
        });
    }
}

impl Capture {
    /// Installs the capture as this thread's subscriber (tasks submitted
    /// under one of its spans carry it to the workers).
    fn install(&self) -> tracing::subscriber::DefaultGuard {
        let subscriber = tracing_subscriber::registry().with(self.clone());
        tracing::subscriber::set_default(subscriber)
    }

    fn task_spans(&self) -> Vec<Record> {
        let spans = self.spans.lock().unwrap();
        spans
            .iter()
            .filter(|r| r.node.name == "task")
            .cloned()
            .collect()
    }

    fn events_named(&self, message: &str) -> Vec<Record> {
        let events = self.events.lock().unwrap();
        events
            .iter()
            .filter(|r| r.node.name == message)
            .cloned()
            .collect()
    }
}

fn pool(prefix: &str, workers: usize) -> ThreadPoolExecutor {
    ThreadPoolExecutor::builder()
        .max_workers(workers)
        .thread_name_prefix(prefix)
        .build()
        .unwrap()
}

#[test]
fn each_task_gets_a_span_under_the_submitters_span() {
    let capture = Capture::default();
    let _default = capture.install();
    let pool = pool("spans", 2);
    let ids: Vec<String> = {
        let request = tracing::info_span!("request", user = 7);
        let _in_request = request.enter();
        let handles: Vec<_> = (0..5_u32)
            .map(|i| pool.submit_named("resize", move || i))
            .collect();
        let ids = handles.iter().map(|h| format!("{:?}", h.id())).collect();
        for h in handles {
            h.result().unwrap();
        }
        ids
    };
    // Submitted outside any span: the worker's default subscriber (none).
    pool.submit(|| ()).result().unwrap();

    let tasks = capture.task_spans();
    assert_eq!(tasks.len(), 5, "{tasks:#?}");
    for task in &tasks {
        assert_eq!(task.node.field("task.name"), Some("resize"));
        assert_eq!(task.node.field("pool"), Some("spans"));
        let parent = task.parent().expect("a parent span");
        assert_eq!(parent.name, "request");
        assert_eq!(parent.field("user"), Some("7"));
        assert_eq!(task.ancestors.len(), 1);
        // `task.id` is the handle's `TaskId`, as a number.
        let id = task.node.field("task.id").unwrap();
        assert!(
            ids.iter().any(|h| h == &format!("TaskId({id})")),
            "{id} in {ids:?}"
        );
    }
}

#[test]
fn a_task_submitted_by_a_task_is_a_child_of_its_span() {
    let capture = Capture::default();
    let _default = capture.install();
    let pool = Arc::new(pool("nested", 2));
    let inner_pool = Arc::clone(&pool);
    let request = tracing::info_span!("request");
    let outer = request.in_scope(|| {
        pool.submit_named("outer", move || {
            tracing::info!("in outer");
            inner_pool
                .submit_named("inner", || tracing::info!("in inner"))
                .result()
                .unwrap();
        })
    });
    outer.result().unwrap();

    let inner = capture.events_named("in inner");
    assert_eq!(inner.len(), 1);
    let path: Vec<(&str, Option<&str>)> = inner[0]
        .ancestors
        .iter()
        .map(|n| (n.name.as_str(), n.field("task.name")))
        .collect();
    assert_eq!(
        path,
        [
            ("task", Some("inner")),
            ("task", Some("outer")),
            ("request", None)
        ]
    );
    assert_eq!(capture.events_named("in outer").len(), 1);
}

#[test]
fn panics_cancellations_rejections_and_broken_pools_are_events() {
    let capture = Capture::default();
    let _default = capture.install();
    let request = tracing::info_span!("request");
    let _in_request = request.enter();

    // A panic: inside the task's span.
    let pool = pool("events", 1);
    let err = pool.submit_named("boom", || panic!("bad input")).result();
    assert!(matches!(err, Err(TaskError::Panicked(_))));
    let panics = capture.events_named("task panicked");
    assert_eq!(panics.len(), 1);
    assert_eq!(panics[0].parent().unwrap().field("task.name"), Some("boom"));
    assert!(panics[0].node.field("panic").unwrap().contains("bad input"));

    // Cancellations: three queued behind a busy worker.
    let gate = Gate::new();
    let g = gate.clone();
    let busy = pool.submit(move || g.wait());
    let queued: Vec<_> = (0..3).map(|_| pool.submit_named("queued", || ())).collect();
    for h in &queued {
        assert!(h.cancel());
    }
    gate.open();
    busy.result().unwrap();
    let cancelled = capture.events_named("task cancelled");
    assert_eq!(cancelled.len(), 3);
    for e in &cancelled {
        assert_eq!(e.node.field("task.name"), Some("queued"));
        assert_eq!(e.parent().unwrap().name, "request");
    }
    // Cancelled tasks never ran: no span for them.
    assert!(capture
        .task_spans()
        .iter()
        .all(|s| s.node.field("task.name") != Some("queued")));

    // A rejection: submitted after shutdown.
    pool.shutdown(true);
    let rejected = pool.submit_named("late", || ());
    assert!(matches!(rejected.result(), Err(TaskError::Rejected)));
    let rejections = capture.events_named("task rejected");
    assert_eq!(rejections.len(), 1);
    assert_eq!(rejections[0].node.field("task.name"), Some("late"));

    // A broken pool: its initializer panics; later tasks are refused.
    let broken = ThreadPoolExecutor::builder()
        .max_workers(1)
        .thread_name_prefix("broken")
        .initializer(|| panic!("no config"))
        .build()
        .unwrap();
    let deadline = std::time::Instant::now() + support::HANG;
    while !broken.is_broken() && std::time::Instant::now() < deadline {
        std::thread::yield_now();
    }
    let refused = broken.submit_named("after", || ());
    assert!(matches!(refused.result(), Err(TaskError::Broken)));
    let refusals = capture.events_named("task refused: the pool is broken");
    assert_eq!(refusals.len(), 1);
    assert_eq!(refusals[0].node.field("task.name"), Some("after"));
    assert_eq!(refusals[0].parent().unwrap().name, "request");
}

/// The pool-broken event comes from the worker whose initializer panicked,
/// which has no submitter: it goes to the global default subscriber. This
/// is the only test of this binary that installs one (and it filters on
/// its own pool's name).
#[test]
fn a_broken_pool_reports_itself_to_the_global_subscriber() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    tracing::subscriber::set_global_default(subscriber).expect("the only global default");
    let broken = ThreadPoolExecutor::builder()
        .max_workers(1)
        .thread_name_prefix("global-broken")
        .initializer(|| panic!("no config"))
        .build()
        .unwrap();
    let deadline = std::time::Instant::now() + support::HANG;
    while !broken.is_broken() && std::time::Instant::now() < deadline {
        std::thread::yield_now();
    }
    let broke = capture.events_named("worker initializer panicked: the pool is broken");
    let ours: Vec<_> = broke
        .iter()
        .filter(|e| e.node.field("pool") == Some("global-broken"))
        .collect();
    assert_eq!(ours.len(), 1, "{broke:#?}");
}
