//! `executor-bench`: the side-by-side harness of DESIGN.md ("Performance").
//!
//! Runs workloads W1–W5 on `executor` and the pools people use today, in one
//! process, interleaved, and prints a markdown table of medians and ratios to
//! `executor`. `--help` lists the options; `docs/benchmarks.md` explains the
//! workloads and holds the latest full run.

mod config;
mod contender;
mod plot;
mod pools;
mod report;
mod runner;
mod stats;
mod tree;
mod work;

use std::process::ExitCode;

use crate::stats::fmt_duration;

fn main() -> ExitCode {
    let config = match config::parse(std::env::args().skip(1)) {
        Ok(c) => c,
        Err(msg) if msg.is_empty() => {
            print!("{}", config::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("executor-bench: {msg}\n\n{}", config::USAGE);
            return ExitCode::from(2);
        }
    };
    let machine = report::Machine::detect();
    eprintln!(
        "executor-bench: {} CPUs ({}), {} workers (W4: {}), {} warm-up + {} timed round(s){}",
        machine.cpus,
        machine.cpu_model,
        config.params.workers,
        config.params.io_workers,
        config.warmup,
        config.runs,
        if config.quick { ", --quick sizes" } else { "" }
    );

    let kernel_iters = work::calibrate_kernel(config.sizes.w2_item);
    let (mut pools, mut notes) = pools::build(&config.pools, config.params, config.sizes.w2_item);
    for n in &notes {
        eprintln!("note: {n}");
    }
    let started = std::time::Instant::now();
    let results = runner::run(&config, &mut pools, kernel_iters);
    drop(pools);
    let total = started.elapsed();

    notes.extend(results.notes.iter().cloned());
    if let Some(seq) = results.map_sequential {
        notes.push(format!(
            "W2 sequential (1 thread, no pool): {}; {}-CPU limit {}",
            fmt_duration(seq),
            config.params.workers,
            fmt_duration(seq / config.params.workers as u32)
        ));
    }
    if let Some(seq) = results.fib_sequential {
        notes.push(format!(
            "W3 sequential fib({}) (1 thread, no pool): {}",
            config.sizes.w3_n,
            fmt_duration(seq)
        ));
    }
    notes.push(format!("benchmark rounds took {}", fmt_duration(total)));

    let checks = report::targets(&results, &config);
    println!(
        "## executor-bench\n\nMachine: {} CPUs, {}. Workers: {} (W4: {}).\n",
        machine.cpus, machine.cpu_model, config.params.workers, config.params.io_workers
    );
    println!("{}", report::markdown_table(&results, &config));
    println!(
        "### Targets\n\n{}",
        report::markdown_targets(&checks, &config)
    );
    println!("### Notes\n");
    for n in &notes {
        println!("- {n}");
    }

    if let Some(path) = &config.json {
        let value = report::json(&results, &config, &machine, &checks, &notes);
        let text = serde_json::to_string_pretty(&value).expect("JSON serialises");
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
        if let Err(e) = parent.map_or(Ok(()), std::fs::create_dir_all) {
            eprintln!("executor-bench: creating {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        if let Err(e) = std::fs::write(path, text + "\n") {
            eprintln!("executor-bench: writing {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        eprintln!("wrote {}", path.display());
    }
    if let Some(dir) = &config.plot {
        match plot::write_svg(&results, dir) {
            Ok(path) => eprintln!("wrote {}", path.display()),
            Err(e) => {
                eprintln!("executor-bench: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
