//! The `drydock` command line (placeholder until the simulator lands).

fn main() {
    println!("drydock {} (engine port v{})", env!("CARGO_PKG_VERSION"), drydock_engine::PORT_VERSION);
}
