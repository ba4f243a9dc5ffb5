//! `load report`: result files joined into the Markdown table of `BENCHMARKS.md`.

use std::collections::BTreeMap;

use crate::opts::*;
use serde_json::{Value, json};

pub(crate) fn fmt_rate(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

pub(crate) fn fmt_us(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.0} ms", v / 1000.0)
    } else if v >= 1000.0 {
        format!("{:.1} ms", v / 1000.0)
    } else {
        format!("{v:.0} µs")
    }
}

pub(crate) fn fmt_bytes(v: f64) -> String {
    if v >= 10.0 * 1024.0 {
        format!("{:.0} KiB", v / 1024.0)
    } else {
        format!("{v:.0} B")
    }
}

/// A scenario name without its size, so that rows of different sizes (the peer may run
/// fewer connections or actors) share a line; the size goes into the cell.
pub(crate) fn normalize(scenario: &str) -> (String, Option<u64>) {
    let number = |s: &str| -> Option<u64> {
        s.chars()
            .filter(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .ok()
    };
    if let Some(rest) = scenario.strip_prefix("memory per idle ")
        && let Some((what, size)) = rest.split_once(" (")
    {
        return (format!("memory per idle {what}"), number(size));
    }
    for prefix in ["open + subscribe ", "fan-out to "] {
        if let Some(rest) = scenario.strip_prefix(prefix) {
            return (format!("{prefix}N conns"), number(rest));
        }
    }
    (scenario.to_string(), None)
}

/// Joins result files: rows keyed by scenario, columns by label (`ours`, `echo`, `axum`,
/// `rivetkit`); the floor of a WebSocket row is `echo`, of an HTTP row `axum`.
pub(crate) fn report(files: &[String]) -> Result<(), Error> {
    let mut by_scenario: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
    let mut order = Vec::new();
    for file in files {
        for line in std::fs::read_to_string(file)?.lines() {
            let Ok(row) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            let (scenario, n) = normalize(row["scenario"].as_str().unwrap_or(""));
            let mut row = row;
            if let Some(n) = n {
                row["n"] = json!(n);
            }
            let label = row["label"].as_str().unwrap_or("").to_string();
            if !order.contains(&scenario) {
                order.push(scenario.clone());
            }
            by_scenario.entry(scenario).or_default().insert(label, row);
        }
    }
    let cell = |row: Option<&Value>| -> String {
        let Some(row) = row else {
            return "—".into();
        };
        let errors = row["errors"].as_u64().unwrap_or(0);
        let err = if errors > 0 {
            format!(" ({errors} failed)")
        } else {
            String::new()
        };
        let n = row["n"]
            .as_u64()
            .map_or(String::new(), |n| format!(" (n = {n})"));
        if let Some(b) = row["bytes_per_item"].as_f64() {
            return format!("{}{n}{err}", fmt_bytes(b));
        }
        // A row that could not set up every connection says so.
        let setup = row["note"]
            .as_str()
            .filter(|note| note.contains("set up in"))
            .map_or(String::new(), |note| format!(" ({note})"));
        if row["ops"].as_u64().unwrap_or(0) == 0 {
            return format!("no result{setup}{err}");
        }
        format!(
            "{}/s · p50 {} · p99 {}{n}{setup}{err}",
            fmt_rate(row["rate"].as_f64().unwrap_or(0.0)),
            fmt_us(row["p50_us"].as_f64().unwrap_or(0.0)),
            fmt_us(row["p99_us"].as_f64().unwrap_or(0.0)),
        )
    };
    // Higher is better for rates; for memory, lower is better: the ratio is always "ours
    // relative to the other", as a percentage of its rate or a multiple of its bytes.
    let ratio = |ours: Option<&Value>, other: Option<&Value>| -> String {
        let (Some(ours), Some(other)) = (ours, other) else {
            return "—".into();
        };
        if let (Some(a), Some(b)) = (
            ours["bytes_per_item"].as_f64(),
            other["bytes_per_item"].as_f64(),
        ) {
            return if b > 0.0 {
                let r = a / b;
                if r < 0.1 {
                    format!("{r:.3}× the memory")
                } else {
                    format!("{r:.2}× the memory")
                }
            } else {
                "—".into()
            };
        }
        let (a, b) = (
            ours["rate"].as_f64().unwrap_or(0.0),
            other["rate"].as_f64().unwrap_or(0.0),
        );
        if b <= 0.0 || a <= 0.0 {
            return "—".into();
        }
        let pct = 100.0 * a / b;
        if pct >= 1000.0 {
            format!("{:.0}×", a / b)
        } else {
            format!("{pct:.0}%")
        }
    };
    println!(
        "| scenario | ours (rivet-actor) | floor | ours ÷ floor | RivetKit 2.3.19 | ours ÷ RivetKit |"
    );
    println!("|---|---|---|---:|---|---:|");
    for scenario in order {
        let cols = &by_scenario[&scenario];
        let ours = cols.get("ours");
        let floor = if scenario.starts_with("http") {
            cols.get("axum")
        } else {
            cols.get("echo")
        };
        let peer = cols.get("rivetkit");
        println!(
            "| {scenario} | {} | {} | {} | {} | {} |",
            cell(ours),
            cell(floor),
            ratio(ours, floor),
            cell(peer),
            ratio(ours, peer)
        );
    }
    Ok(())
}
