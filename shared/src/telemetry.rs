//! Structured logs: one JSON object per line on stdout, as CloudWatch (and
//! Lambda's JSON log format) expects. `RUST_LOG` sets the level (default info).

use tracing_subscriber::EnvFilter;

/// Installs the JSON subscriber; a second call is a no-op.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    init_with(filter, std::io::stdout);
}

/// Installs the same JSON format with another filter and writer (the warm
/// benches write to a sink); a second call is a no-op.
pub fn init_with<W>(filter: EnvFilter, writer: W)
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_env_filter(filter)
        .with_writer(writer)
        .try_init();
}
