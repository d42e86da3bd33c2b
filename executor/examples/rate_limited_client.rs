//! The tutorials' API client: many requests, at most K in flight and at
//! most RATE started per second, and each failure handled as its request
//! completes, not at the end.
//!
//! The Python it mirrors (a pool plus a `Semaphore` and a hand-written
//! token bucket, or a pool of exactly K workers owned by the client):
//!
//! ```python
//! limit = threading.BoundedSemaphore(K)                  # at most K in flight
//! def get_limited(path):
//!     bucket.take()                                      # at most RATE per second
//!     with limit:
//!         return get(path)
//! futures = {pool.submit(get_limited, f"/item/{i}"): i for i in range(40)}
//! for future in as_completed(futures, timeout=10):
//!     i = futures[future]
//!     try:
//!         body = future.result()
//!     except HTTPError as e:      # the server said 500: retry later
//!         retry.append(i)
//!     except Exception as e:      # a bug in our client code
//!         print(f"/item/{i} crashed: {e!r}")
//! ```
//!
//! Here the client is a *view* of the application's one pool:
//! `pool.limited(K).with_rate(RATE, 1 s)`. It shares the pool's workers
//! with everything else, runs at most K requests at once and starts at
//! most RATE per second (after a burst of K); requests waiting their turn
//! hold no worker, so the pool's other work is not held up by the API's
//! limits, and no semaphore blocks a thread.
//!
//! A small HTTP server runs inside the example on 127.0.0.1 (std's
//! `TcpListener` and a hand-written handler, itself on a pool): it takes
//! 20 ms per request, answers `500` the first time it is asked for some
//! items, and a malformed response for others, on which the client's
//! parser panics. The server counts requests in flight and their arrival
//! times; `as_completed` hands each request back as it finishes, the 500s
//! are retried once, and the panics arrive as `TaskError::Panicked` values
//! while the workers carry on. (Rust's panic hook still reports each panic
//! where it happens; the example installs a one-line hook so that the
//! report stays short.)
//!
//! Run with `cargo run --release --example rate_limited_client`.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use executor::{as_completed, TaskError, ThreadPoolExecutor};

/// Requests in flight at most.
const K: usize = 4;
/// Requests started per second at most (after a burst of K).
const RATE: u32 = 100;
const REQUESTS: u64 = 40;
const SERVER_DELAY: Duration = Duration::from_millis(20);

// ---- the server -----------------------------------------------------------

/// What the server counts.
#[derive(Default)]
struct ServerStats {
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// When each request arrived.
    arrivals: Mutex<Vec<Instant>>,
    /// How often each item was asked for (to fail only the first time).
    attempts: Mutex<HashMap<u64, u32>>,
}

/// Starts the server on a free port of 127.0.0.1; it serves until the
/// process exits.
fn start_server(stats: Arc<ServerStats>) -> io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let handlers = ThreadPoolExecutor::builder()
        .max_workers(16)
        .thread_name_prefix("server")
        .build()
        .map_err(io::Error::other)?;
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let stats = Arc::clone(&stats);
            // Detached: nobody needs the handle of a connection.
            drop(handlers.submit(move || serve(stream, &stats)));
        }
    });
    Ok(addr)
}

/// Answers one request: `GET /item/N`.
fn serve(mut stream: TcpStream, stats: &ServerStats) -> io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        // Skip the headers, up to the empty line.
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" {
            break;
        }
    }
    stats.arrivals.lock().unwrap().push(Instant::now());
    let now = stats.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    stats.max_in_flight.fetch_max(now, Ordering::SeqCst);
    thread::sleep(SERVER_DELAY);

    let id: Option<u64> = request_line
        .split(' ')
        .nth(1)
        .and_then(|path| path.strip_prefix("/item/"))
        .and_then(|n| n.parse().ok());
    let attempt = id.map_or(1, |id| {
        let mut attempts = stats.attempts.lock().unwrap();
        let n = attempts.entry(id).or_insert(0);
        *n += 1;
        *n
    });
    let response = match id {
        None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_string(),
        Some(id) if id % 10 == 7 && attempt == 1 => {
            "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n".to_string()
        }
        Some(id) if id % 13 == 5 => "garbage\r\n\r\n".to_string(),
        Some(id) => {
            let body = format!("{{\"id\": {id}, \"square\": {}}}", id * id);
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
        }
    };
    stats.in_flight.fetch_sub(1, Ordering::SeqCst);
    stream.write_all(response.as_bytes())
}

// ---- the client -----------------------------------------------------------

/// Why a request failed, short of a bug.
#[derive(Debug)]
enum HttpError {
    /// Connecting, sending or receiving failed.
    Io(io::Error),
    /// The server answered with an error status.
    Status(u16),
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::Io(e) => write!(f, "I/O error: {e}"),
            HttpError::Status(code) => write!(f, "HTTP {code}"),
        }
    }
}

impl From<io::Error> for HttpError {
    fn from(e: io::Error) -> Self {
        HttpError::Io(e)
    }
}

/// A minimal blocking `GET`, returning the body of a 200 response.
fn get(addr: SocketAddr, path: &str) -> Result<String, HttpError> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    // The client's bug: it trusts the status line. A malformed one panics.
    let code: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("malformed status line from {path}: {head:?}"));
    match code {
        200 => Ok(body.to_string()),
        code => Err(HttpError::Status(code)),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // One line per panic on stderr, naming the worker it happened on.
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("(not a string)");
        let thread = thread::current();
        eprintln!(
            "  [panic hook] {} panicked: {message}",
            thread.name().unwrap_or("?")
        );
    }));

    let stats = Arc::new(ServerStats::default());
    let addr = start_server(Arc::clone(&stats))?;
    println!(
        "server on http://{addr}/, {} ms per request; client: {REQUESTS} requests, \
         at most {K} in flight and {RATE} per second",
        SERVER_DELAY.as_millis()
    );

    // The application's one pool, and the API client as a view of it.
    let pool = ThreadPoolExecutor::builder()
        .max_workers(16)
        .thread_name_prefix("app")
        .build()?;
    let client = pool
        .limited(K)
        .with_rate(RATE, Duration::from_secs(1))
        .with_burst(K as u32);
    let start = Instant::now();
    // Each task returns its id with its result: that is Python's
    // `{future: i}` dictionary.
    let handles: Vec<_> = (0..REQUESTS)
        .map(|id| client.submit(move || (id, get(addr, &format!("/item/{id}")))))
        .collect();

    let mut ok = 0;
    let mut retry = Vec::new();
    let mut crashed = 0;
    for next in as_completed(handles).timeout(Duration::from_secs(10)) {
        let handle = match next {
            Ok(handle) => handle,
            Err(timed_out) => {
                // The unfinished requests come back with the error: nothing is lost.
                println!("  gave up on {} request(s)", timed_out.pending().len());
                break;
            }
        };
        match handle.result() {
            Ok((_, Ok(_body))) => ok += 1,
            Ok((id, Err(HttpError::Status(500)))) => {
                println!("  /item/{id}: HTTP 500, will retry");
                retry.push(id);
            }
            Ok((id, Err(e))) => println!("  /item/{id}: failed: {e}"),
            Err(TaskError::Panicked(panic)) => {
                crashed += 1;
                println!("  a request crashed: {panic}");
            }
            Err(e) => println!("  a request did not run: {e}"),
        }
    }
    println!(
        "first pass: {ok} ok, {} to retry, {crashed} crashed, in {:.0} ms",
        retry.len(),
        start.elapsed().as_secs_f64() * 1e3
    );

    // The retries: the same view, the same limits.
    let retried: Vec<_> = retry
        .iter()
        .map(|&id| client.submit(move || get(addr, &format!("/item/{id}"))))
        .collect();
    let retried_ok = as_completed(retried)
        .map(|h| h.result()) // a yielded handle is done: this does not block
        .filter(|r| matches!(r, Ok(Ok(_))))
        .count();
    println!(
        "retries: {retried_ok} of {} ok; total {} ok of {REQUESTS} in {:.0} ms (sequential: ~{} ms)",
        retry.len(),
        ok + retried_ok,
        start.elapsed().as_secs_f64() * 1e3,
        (REQUESTS + retry.len() as u64) * SERVER_DELAY.as_millis() as u64
    );
    let max_in_flight = stats.max_in_flight.load(Ordering::SeqCst);
    println!("the server saw at most {max_in_flight} requests in flight (limit {K})");
    assert!(max_in_flight <= K, "more than K requests were in flight");
    // The token bucket's promise, as the server saw it: within any window
    // of 100 ms, at most the burst plus 100 ms worth of tokens arrived.
    let arrivals = stats.arrivals.lock().unwrap().clone();
    let window = Duration::from_millis(100);
    let most = arrivals
        .iter()
        .map(|&t| {
            arrivals
                .iter()
                .filter(|&&u| u >= t && u < t + window)
                .count()
        })
        .max()
        .unwrap_or(0);
    let allowed = K + (RATE as usize) / 10;
    println!(
        "the server saw at most {most} requests arrive within {window:?} (bucket allows {allowed})"
    );
    assert!(most <= allowed, "the rate limit was exceeded");
    Ok(())
}
