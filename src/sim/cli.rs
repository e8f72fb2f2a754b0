//! The `copydesk sim` subcommand's flags and the simulator they start; the binary serves
//! until Ctrl-C.

use std::net::SocketAddr;

use clap::{Args, ValueEnum};

use super::server::{PriceMode, SimConfig, SimHandle, Simulator};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Prices {
    Static,
    Walk,
}

/// Flags of `copydesk sim`. `Debug` hides the admin token.
#[derive(Args)]
pub struct SimArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8790")]
    pub listen: SocketAddr,
    /// `static` moves prices only through the admin API; `walk` is a seeded random walk.
    #[arg(long, value_enum, default_value_t = Prices::Static)]
    pub prices: Prices,
    /// Seed of the random walk and the demo leaders.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of demo leader accounts with generated history.
    #[arg(long, default_value_t = 0)]
    pub demo_leaders: usize,
    /// Token the admin API requires in `X-Admin-Token`; open when absent.
    #[arg(long, env = "COPYDESK_SIM_ADMIN_TOKEN")]
    pub admin_token: Option<String>,
    /// Request weight allowed per minute per client address.
    #[arg(long, default_value_t = 2400)]
    pub weight_limit: u32,
}

impl std::fmt::Debug for SimArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimArgs")
            .field("listen", &self.listen)
            .field("prices", &self.prices)
            .field("seed", &self.seed)
            .field("demo_leaders", &self.demo_leaders)
            .field("admin_token", &self.admin_token.as_ref().map(|_| "***"))
            .field("weight_limit", &self.weight_limit)
            .finish()
    }
}

/// Starts the simulator the flags describe; the caller serves until it wants to stop and
/// then calls [`SimHandle::shutdown`].
pub async fn start(args: SimArgs) -> Result<SimHandle, String> {
    let mut config = SimConfig {
        listen: args.listen,
        prices: match args.prices {
            Prices::Static => PriceMode::Static,
            Prices::Walk => PriceMode::Walk,
        },
        seed: args.seed,
        demo_leaders: args.demo_leaders,
        admin_token: args.admin_token,
        ..SimConfig::default()
    };
    config.limits.weight_per_minute = args.weight_limit;
    Simulator::start(config)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))
}
