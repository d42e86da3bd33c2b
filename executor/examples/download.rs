//! Downloading many files: the thread-pool tutorials' favourite case
//! (Python's `ThreadPoolExecutor` + `as_completed` + `requests.get`), done
//! for real and offline.
//!
//! A small HTTP server started here on 127.0.0.1 serves 200 files, each
//! after an artificial 20 ms delay (a slow network). A 32-worker I/O pool
//! fetches them with a blocking client, shows progress as they complete
//! through `as_completed(..).progress_with(bar)` (the `indicatif` feature),
//! checks every body, and compares the time with a plain sequential loop
//! over the same files.
//!
//! The pool is built for I/O: 32 workers, but started lazily (an idle pool
//! holds one thread) and retired after `keep_alive`, so it costs nothing
//! between bursts.
//!
//! Run with `cargo run --release --features indicatif --example download`.

use std::error::Error;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use executor::{as_completed, ThreadPoolExecutor};
use indicatif::{ProgressBar, ProgressIterator, ProgressStyle};

const FILES: usize = 200;
const DELAY: Duration = Duration::from_millis(20);
const WORKERS: usize = 32;

/// The content of file `i`: its own name, repeated a varying number of
/// times, so a body delivered for the wrong file or cut short is caught.
fn expected_body(i: usize) -> String {
    format!("file-{i:03}: the quick brown fox jumps over the lazy dog\n").repeat(1 + i % 37)
}

/// Serves `/files/{i}.txt` for `i < FILES` on an ephemeral port of
/// 127.0.0.1, each reply after `DELAY`, one thread per request (as a
/// server with plenty of capacity would). Returns the server, to stop it
/// with `unblock`, and its base URL.
fn start_server() -> Result<(Arc<tiny_http::Server>, String), Box<dyn Error>> {
    let server = tiny_http::Server::http("127.0.0.1:0").map_err(|e| e as Box<dyn Error>)?;
    let server = Arc::new(server);
    let port = server
        .server_addr()
        .to_ip()
        .ok_or("the server has no IP address")?
        .port();
    let accepting = Arc::clone(&server);
    thread::Builder::new()
        .name("http-accept".into())
        .spawn(move || {
            // Ends when `unblock` is called.
            for request in accepting.incoming_requests() {
                thread::spawn(move || {
                    thread::sleep(DELAY);
                    let file = request
                        .url()
                        .strip_prefix("/files/")
                        .and_then(|name| name.strip_suffix(".txt"))
                        .and_then(|n| n.parse::<usize>().ok())
                        .filter(|&n| n < FILES);
                    let response = match file {
                        Some(i) => tiny_http::Response::from_string(expected_body(i)),
                        None => tiny_http::Response::from_string("not found").with_status_code(404),
                    };
                    // The client may have gone; nothing to do about it here.
                    let _ = request.respond(response);
                });
            }
        })?;
    Ok((server, format!("http://127.0.0.1:{port}")))
}

/// Fetches one file: the blocking call a worker makes.
fn fetch(agent: &ureq::Agent, base: &str, i: usize) -> Result<String, ureq::Error> {
    let mut response = agent.get(format!("{base}/files/{i:03}.txt")).call()?;
    response.body_mut().read_to_string()
}

/// Checks a downloaded body against what the server was meant to send.
fn check(i: usize, body: &str) -> Result<(), Box<dyn Error>> {
    if body == expected_body(i) {
        Ok(())
    } else {
        Err(format!("file {i}: wrong content ({} bytes)", body.len()).into())
    }
}

/// A styled bar; its length is set by whoever moves it.
fn progress_bar(label: &'static str) -> ProgressBar {
    let bar = ProgressBar::no_length();
    bar.set_style(
        ProgressStyle::with_template("{prefix:>10} [{bar:40}] {pos:>3}/{len} {msg}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(label);
    bar
}

fn main() -> Result<(), Box<dyn Error>> {
    let (server, base) = start_server()?;
    // One agent for everyone: it is cheap to clone and reuses connections.
    let agent = ureq::Agent::new_with_defaults();

    let pool = ThreadPoolExecutor::builder()
        .max_workers(WORKERS)
        .thread_name_prefix("download")
        .keep_alive(Duration::from_millis(200))
        .build()?;
    println!(
        "serving {FILES} files at {base}, {} ms each; pool of up to {WORKERS} workers ({} started while idle)",
        DELAY.as_millis(),
        pool.stats().threads_started
    );

    // Concurrent: submit every download, then take them as they finish.
    let start = Instant::now();
    let handles: Vec<_> = (0..FILES)
        .map(|i| {
            let (agent, base) = (agent.clone(), base.clone());
            pool.submit(move || fetch(&agent, &base, i).map(|body| (i, body)))
        })
        .collect();
    // The bar's length and position come from `as_completed` itself.
    let mut completions = as_completed(handles).progress_with(progress_bar("pool"));
    let mut bytes = 0;
    while let Some(handle) = completions.next() {
        let (i, body) = handle.result()??;
        check(i, &body)?;
        bytes += body.len();
        completions.bar().set_message(format!("file-{i:03}.txt"));
    }
    completions.bar().finish_with_message("done");
    let concurrent = start.elapsed();
    let stats = pool.stats();
    println!(
        "pool:       {FILES} files, {bytes} bytes in {concurrent:>8.1?} ({} threads started)",
        stats.threads_started
    );

    // Sequential: the same files, one after another, on this thread.
    let start = Instant::now();
    let bar = progress_bar("sequential");
    bar.set_length(FILES as u64);
    let mut sequential_bytes = 0;
    for i in (0..FILES).progress_with(bar.clone()) {
        let body = fetch(&agent, &base, i)?;
        check(i, &body)?;
        sequential_bytes += body.len();
    }
    bar.finish_with_message("done");
    let sequential = start.elapsed();
    println!("sequential: {FILES} files, {sequential_bytes} bytes in {sequential:>8.1?}");
    assert_eq!(bytes, sequential_bytes);
    println!(
        "speed-up: {:.1}x with {WORKERS} workers (every body checked)",
        sequential.as_secs_f64() / concurrent.as_secs_f64()
    );

    // Idle now: the extra workers retire after keep_alive.
    let deadline = Instant::now() + Duration::from_secs(5);
    while pool.stats().workers_alive > 1 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    let stats = pool.stats();
    println!(
        "after keep_alive: {} worker(s) alive, {} retired",
        stats.workers_alive, stats.threads_retired
    );

    pool.shutdown(true);
    server.unblock();
    Ok(())
}
