//! `fst-tile-server`: serve FST files over WMS and XYZ.

use std::path::PathBuf;
use std::process::ExitCode;

use std::sync::Arc;

use clap::Parser;
use tile_server::config::{bundled_sample, Config};
use tile_server::serve::{serve, ConnectionLimits};
use tile_server::{router, AppState};

/// Serve RPN standard files (FST) as WMS 1.3.0/1.1.1 and XYZ tiles.
#[derive(Parser, Debug)]
#[command(name = "fst-tile-server", version)]
struct Cli {
    /// A data directory (or file); repeat for several. Without --data or --config, the
    /// bundled sample is served.
    #[arg(long)]
    data: Vec<PathBuf>,
    /// TOML configuration file.
    #[arg(long, conflicts_with = "data")]
    config: Option<PathBuf>,
    /// Listen address (overrides the config).
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
    /// Styles folder (overrides the config).
    #[arg(long)]
    styles: Option<PathBuf>,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let mut config = match &cli.config {
        Some(p) => match Config::load(p) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("fst-tile-server: {e}");
                return ExitCode::from(2);
            }
        },
        None if cli.data.is_empty() => Config::with_data(vec![bundled_sample()]),
        None => Config::with_data(cli.data.clone()),
    };
    if let Some(l) = cli.listen {
        config.listen = l;
    }
    if let Some(s) = cli.styles {
        config.styles = s;
    }
    let state = match AppState::new(config.clone()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("fst-tile-server: {e}");
            return ExitCode::from(2);
        }
    };
    let _watcher = if config.watch.enabled {
        match tile_server::watch::spawn(state.clone()) {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!("directory watching disabled: {e}");
                None
            }
        }
    } else {
        None
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("fst-tile-server: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(config.listen).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("fst-tile-server: cannot listen on {}: {e}", config.listen);
                return ExitCode::FAILURE;
            }
        };
        let addr = listener.local_addr().map_or_else(|_| config.listen.to_string(), |a| a.to_string());
        let n = state.snapshot().layers.len();
        eprintln!("fst-tile-server: {n} layers from {} path(s)", config.data.len());
        eprintln!("fst-tile-server: viewer at http://{addr}/   WMS at http://{addr}/wms?SERVICE=WMS&REQUEST=GetCapabilities");
        // Ctrl-C, or SIGTERM from a service manager or container runtime: stop accepting,
        // let open requests finish.
        let shutdown = async {
            let term = async {
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(mut s) => {
                        s.recv().await;
                    }
                    Err(_) => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                () = term => {}
            }
        };
        let limits = ConnectionLimits::from_config(&config.connections);
        let stats = Arc::clone(&state.connections);
        serve(listener, router(state), limits, stats, shutdown).await;
        ExitCode::SUCCESS
    })
}
