//! Copies through the facade: create and start one while the others keep running, resume
//! the stored ones at open (as restarts), pause, resume, stop with a stop action, modify
//! amounts, panic; and the status of one copy.

use crate::domain::StopAction;
use crate::runtime::leader_source::{LeaderSpec, PortfolioSpec};
use crate::runtime::{Command, CopySpec, NotifyKind, NotifyLevel};
use crate::secrets::keys;

use super::dto::{CopyDto, ModifyRequest, NewCopyRequest, StopActionDto};
use super::{ApiError, ErrorCode};

impl super::App {
    /// Creates a copy and starts it; copies already running are not touched.
    pub async fn create_copy(&self, req: NewCopyRequest) -> Result<CopyDto, ApiError> {
        keys::validate_name(&req.name).map_err(|e| ApiError::field("name", e.to_string()))?;
        let settings = super::settings::validate(&req.settings).map_err(|e| ApiError {
            field: e.field.map(|f| format!("settings.{f}")),
            ..e
        })?;
        // Checked by `validate` above; its value is stored once the copy exists.
        let profit_share =
            super::statements::parse_ratio(req.settings.profit_share_ratio.as_deref())?;
        if self
            .with_store(|s| Ok(s.copies().by_name(&req.name)?))?
            .is_some()
        {
            return Err(ApiError {
                code: ErrorCode::Conflict,
                ..ApiError::field(
                    "name",
                    format!("a copy named `{}` exists; choose another name", req.name),
                )
            });
        }
        if req.leader == req.follower {
            return Err(ApiError::field(
                "follower",
                "the follower must be another account than the leader",
            ));
        }
        let leader = self.leader_spec(&req.leader).await.map_err(|e| ApiError {
            field: Some("leader".into()),
            ..e
        })?;
        let follower = self
            .account_spec(&req.follower)
            .await
            .map_err(|e| ApiError {
                field: Some("follower".into()),
                ..e
            })?;
        self.follow_leader_venue(&leader, &follower).await?;
        self.engine
            .add(vec![CopySpec {
                name: req.name.clone(),
                leader,
                follower,
                settings,
            }])
            .await?;
        if let Some(ratio) = profit_share {
            self.set_profit_share(&req.name, Some(&ratio.to_string()))?;
        }
        self.copy(&req.name).await
    }

    /// One copy as stored.
    pub async fn copy(&self, name: &str) -> Result<CopyDto, ApiError> {
        self.with_store(|s| {
            let row = s
                .copies()
                .by_name(name)?
                .ok_or_else(|| ApiError::not_found(format!("no copy named `{name}`")))?;
            super::status::copy_dto(s, &row)
        })
        .map(|mut c| {
            super::status::apply_engine(&mut c, &self.engine.holds(), &self.engine.refused());
            c
        })
    }

    /// Resumes every stored copy that was running or paused and is not running yet, each
    /// on its own: one that cannot start is reported and the others still start.
    pub(crate) async fn resume_stored(&self) -> Result<(), ApiError> {
        let running = self.engine.copies();
        for stored in self.engine.stored_to_resume()? {
            if running.contains(&stored.name) {
                continue;
            }
            let name = stored.name.clone();
            let result = async {
                let leader = match (&stored.leader_portfolio, &stored.leader_account) {
                    (Some(p), _) => LeaderSpec::Portfolio(PortfolioSpec {
                        name: p.name.clone(),
                        ..self.portfolio_spec(&p.endpoint, &p.portfolio_id).await?
                    }),
                    (None, Some(a)) => LeaderSpec::Account(self.account_spec(a).await?),
                    (None, None) => return Err(ApiError::not_found(
                        "its leader is neither an account nor a public portfolio CopyDesk can read",
                    )),
                };
                let spec = CopySpec {
                    name: stored.name.clone(),
                    leader,
                    follower: self.account_spec(&stored.follower).await?,
                    settings: stored.settings.clone(),
                };
                self.follow_leader_venue(&spec.leader, &spec.follower)
                    .await?;
                self.engine.add(vec![spec]).await.map_err(ApiError::from)
            }
            .await;
            if let Err(e) = result {
                tracing::error!(copy = %name, error = %e, "stored copy not resumed");
                self.engine.notify(
                    Some(&name),
                    NotifyLevel::Error,
                    NotifyKind::Error,
                    format!("copy `{name}` not resumed: {}", e.message),
                );
            }
        }
        Ok(())
    }

    async fn send(&self, copy: &str, c: Command) -> Result<(), ApiError> {
        if self.engine.command(copy, c).await {
            return Ok(());
        }
        let known = self.with_store(|s| Ok(s.copies().by_name(copy)?))?;
        Err(match known {
            None => ApiError::not_found(format!("no copy named `{copy}`")),
            Some(_) => ApiError::new(
                ErrorCode::Conflict,
                format!("copy `{copy}` is not running in this engine"),
            ),
        })
    }

    /// Pauses a copy: opens are skipped and listed, closes still mirrored.
    pub async fn pause(&self, copy: &str) -> Result<(), ApiError> {
        self.send(copy, Command::Pause).await
    }

    /// Resumes a paused copy.
    pub async fn resume(&self, copy: &str) -> Result<(), ApiError> {
        self.send(copy, Command::Resume).await
    }

    /// Stops a copy with its stop action; a stopped copy does not restart.
    pub async fn stop(&self, copy: &str, action: StopActionDto) -> Result<(), ApiError> {
        let action = match action {
            StopActionDto::CloseAll => StopAction::CloseAll,
            StopActionDto::Keep => StopAction::Keep,
        };
        self.send(copy, Command::Stop(action)).await
    }

    /// New amounts for a running copy, checked here so a refusal names its field.
    pub async fn modify(&self, copy: &str, req: ModifyRequest) -> Result<(), ApiError> {
        let settings = super::settings::validate(&req.settings).map_err(|e| ApiError {
            field: e.field.map(|f| format!("settings.{f}")),
            ..e
        })?;
        let current = self.with_store(|s| {
            let row = s
                .copies()
                .by_name(copy)?
                .ok_or_else(|| ApiError::not_found(format!("no copy named `{copy}`")))?;
            let v: Option<
                crate::store::table::copy_settings::SettingsVersion<crate::domain::CopySettings>,
            > = s.copy_settings().current(row.id)?;
            Ok(v.map(|v| v.settings))
        })?;
        if let Some(current) = current {
            current.check_change(&settings).map_err(|errs| ApiError {
                field: errs
                    .0
                    .first()
                    .map(|e| format!("settings.{}", super::camel_path(e.field))),
                ..ApiError::invalid(errs.to_string())
            })?;
        }
        self.send(copy, Command::Modify(Box::new(settings))).await?;
        // A ratio sent with new settings is set as `profit_share_set` would; absent, the
        // copy keeps its ratio (its settings as read back carry none).
        if let Some(ratio) = req
            .settings
            .profit_share_ratio
            .as_deref()
            .filter(|r| !r.trim().is_empty())
        {
            self.set_profit_share(copy, Some(ratio))?;
        }
        Ok(())
    }

    /// The kill switch: every copy stops with `close-all`.
    pub async fn panic(&self) -> Result<(), ApiError> {
        self.engine.panic().await;
        Ok(())
    }

    async fn release(
        &self,
        copy: &str,
        symbol: &str,
        side: &str,
        how: crate::engine::PositionRelease,
    ) -> Result<(), ApiError> {
        let direction = match side {
            "long" => crate::engine::Direction::Long,
            "short" => crate::engine::Direction::Short,
            other => {
                return Err(ApiError::field(
                    "side",
                    format!("side `{other}` is neither `long` nor `short`"),
                ))
            }
        };
        let held = self
            .status()
            .await?
            .copies
            .iter()
            .find(|c| c.copy.name == copy)
            .is_some_and(|c| {
                c.positions
                    .iter()
                    .any(|p| p.symbol == symbol && p.side == side)
            });
        if !held {
            return Err(ApiError::not_found(format!(
                "copy `{copy}` holds no {side} {symbol} position"
            )));
        }
        self.send(
            copy,
            Command::Release {
                symbol: symbol.to_owned(),
                direction,
                how,
            },
        )
        .await
    }

    /// Market-closes this copy's share of one position; the leader's later changes on it
    /// are declined until the leader is flat.
    pub async fn close_position(
        &self,
        copy: &str,
        symbol: &str,
        side: &str,
    ) -> Result<(), ApiError> {
        self.release(copy, symbol, side, crate::engine::PositionRelease::Close)
            .await
    }

    /// Stops managing one position and keeps it open as the user's own: it leaves the
    /// ledger and its protective stop is cancelled.
    pub async fn unlink_position(
        &self,
        copy: &str,
        symbol: &str,
        side: &str,
    ) -> Result<(), ApiError> {
        self.release(copy, symbol, side, crate::engine::PositionRelease::Unlink)
            .await
    }
}
