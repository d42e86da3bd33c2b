//! "Download many URLs, stop at the first failure": Go's `errgroup` with
//! `SetLimit`, done with a [`TaskGroup`].
//!
//! A small HTTP server on 127.0.0.1 serves 100 files after a 20 ms delay
//! each, except file 30, which is missing (404). A group with the
//! `FirstError` policy and at most 8 downloads in flight fetches them: the
//! 404 is the first failure, so the group cancels the rest. Downloads in
//! progress see their token and drop their result; queued ones never
//! start. `join` returns that first error.
//!
//! Run with `cargo run --release --example download_until_failure`.

use std::error::Error;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use executor::{GroupError, GroupPolicy, ThreadPoolExecutor};

const FILES: usize = 100;
const MISSING: usize = 30;
const DELAY: Duration = Duration::from_millis(20);
const IN_FLIGHT: usize = 8;

/// Serves `/files/{i}.txt` for `i < FILES` except `MISSING`, each reply
/// after `DELAY`. Returns the server (to stop it) and its base URL.
fn start_server() -> Result<(Arc<tiny_http::Server>, String), Box<dyn Error>> {
    let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").map_err(|e| e as Box<dyn Error>)?);
    let port = server.server_addr().to_ip().ok_or("no IP address")?.port();
    let accepting = Arc::clone(&server);
    thread::spawn(move || {
        for request in accepting.incoming_requests() {
            thread::spawn(move || {
                thread::sleep(DELAY);
                let file = request
                    .url()
                    .strip_prefix("/files/")
                    .and_then(|name| name.strip_suffix(".txt"))
                    .and_then(|n| n.parse::<usize>().ok())
                    .filter(|&n| n < FILES && n != MISSING);
                let response = match file {
                    Some(i) => tiny_http::Response::from_string(format!("file {i}\n")),
                    None => tiny_http::Response::from_string("not found").with_status_code(404),
                };
                let _ = request.respond(response);
            });
        }
    });
    Ok((server, format!("http://127.0.0.1:{port}")))
}

fn main() -> Result<(), Box<dyn Error>> {
    let (server, base) = start_server()?;
    let agent = ureq::Agent::new_with_defaults();
    let pool = ThreadPoolExecutor::builder()
        .max_workers(IN_FLIGHT)
        .thread_name_prefix("download")
        .build()?;
    let fetched = Arc::new(AtomicUsize::new(0));
    let started = Arc::new(AtomicUsize::new(0));

    let start = Instant::now();
    let mut group = pool
        .group::<String, String>(GroupPolicy::FirstError)
        .limit(IN_FLIGHT);
    for i in 0..FILES {
        let (agent, base) = (agent.clone(), base.clone());
        let (fetched, started) = (fetched.clone(), started.clone());
        // Waits for a place while 8 downloads are in flight; after the
        // failure, the task is queued cancelled and never starts.
        group.submit_with_token(move |token| {
            started.fetch_add(1, Ordering::Relaxed);
            let url = format!("{base}/files/{i:03}.txt");
            let body = agent
                .get(&url)
                .call()
                .and_then(|mut r| r.body_mut().read_to_string())
                .map_err(|e| format!("{url}: {e}"))?;
            // A sibling failed while we were downloading: not needed any more.
            token.check().map_err(|e| e.to_string())?;
            fetched.fetch_add(1, Ordering::Relaxed);
            Ok(body)
        });
    }
    let outcome = group.join();
    let took = start.elapsed();
    let started = started.load(Ordering::Relaxed);
    let fetched = fetched.load(Ordering::Relaxed);
    match outcome {
        Err(GroupError::Failed(e)) => println!("stopped at the first failure: {e}"),
        Ok(bodies) => return Err(format!("expected a failure, got {} files", bodies.len()).into()),
        Err(other) => return Err(other.to_string().into()),
    }
    println!(
        "{started} of {FILES} downloads started, {fetched} kept, {} never started, in {took:.1?}",
        FILES - started
    );
    assert!(started < FILES, "the failure stopped the rest");
    server.unblock();
    Ok(())
}
