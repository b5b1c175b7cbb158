//! What `strowger serve` prints at start: where it listens and how to register a phone.

use std::net::SocketAddr;
use std::path::Path;
use store::{Config, DefaultCredentials};

/// Prints the start-up banner on standard output (credentials only on the first start, and
/// never to the log).
pub fn print(
    local: &SocketAddr,
    config: &Config,
    first: Option<&DefaultCredentials>,
    data_dir: &Path,
) {
    let host = if local.ip().is_unspecified() {
        "<this machine's IP address>".to_string()
    } else {
        local.ip().to_string()
    };
    println!("Strowger {} is running.", env!("CARGO_PKG_VERSION"));
    println!("  data directory: {}", data_dir.display());
    println!("  SIP: {local} (UDP and TCP)");
    println!();
    println!("Register a phone (softphone or desk phone) with:");
    println!("  server / registrar / domain: {host}:{}", local.port());
    println!("  realm: {}", config.system.realm);
    match first {
        Some(creds) => {
            println!("  user name and password, one per extension (shown this once; store them):");
            for (number, password) in &creds.extensions {
                println!("    {number}  {password}");
            }
            println!();
            println!(
                "Administrator: {}  password: {}",
                creds.admin_name, creds.admin_password
            );
        }
        None => {
            let numbers: Vec<&str> = config
                .extensions
                .iter()
                .map(|e| e.number.as_str())
                .collect();
            println!(
                "  extensions: {} (passwords were shown at first start; set new ones with `strowger config apply`)",
                summarize(&numbers)
            );
        }
    }
    for flow in config.call_flows.iter() {
        if let Some(number) = &flow.number {
            println!();
            println!("Call flow {:?} (auto attendant): dial {number}", flow.name);
        }
    }
    println!();
    println!("`strowger status` shows registrations; Ctrl-C stops the server.");
}

fn summarize(numbers: &[&str]) -> String {
    match numbers {
        [] => "none".into(),
        [one] => (*one).to_string(),
        many if many.len() <= 12 => many.join(", "),
        many => format!(
            "{} … {} ({} in all)",
            many[0],
            many[many.len() - 1],
            many.len()
        ),
    }
}
