//! Generates `ui/src/lib/generated/api.ts`, the TypeScript mirror of the DTOs that cross
//! IPC, so the UI's types are never written by hand. The test fails when the committed
//! file is stale; `UPDATE_TS_BINDINGS=1 cargo test -p copydesk ts_bindings` rewrites it.

use ts_rs::TS;

use super::dto::*;
use super::statements::{ProfitShareDto, StatementDto, StatementKindDto, StatementOutcomeDto};
use super::{AdoptedDto, ApiError, ErrorCode, LeftAloneDto, RepairDto};

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/ui/src/lib/generated/api.ts");

fn render() -> String {
    let cfg = ts_rs::Config::default();
    let decls = [
        ErrorCode::decl(&cfg),
        ApiError::decl(&cfg),
        AppInfo::decl(&cfg),
        PaperDto::decl(&cfg),
        Environment::decl(&cfg),
        AccountDto::decl(&cfg),
        NewAccountRequest::decl(&cfg),
        KeyCheckKind::decl(&cfg),
        FindingStatus::decl(&cfg),
        KeyFindingDto::decl(&cfg),
        BalanceDto::decl(&cfg),
        PositionModeDto::decl(&cfg),
        KeyCheckDto::decl(&cfg),
        LeaderAddedDto::decl(&cfg),
        FiguresDto::decl(&cfg),
        LeaderSourceDto::decl(&cfg),
        LeaderDto::decl(&cfg),
        PortfolioSourceDto::decl(&cfg),
        FindPortfolioRequest::decl(&cfg),
        EquityPointDto::decl(&cfg),
        LeaderPositionDto::decl(&cfg),
        LeaderDetailDto::decl(&cfg),
        CopyModeDto::decl(&cfg),
        PresetDto::decl(&cfg),
        StopActionDto::decl(&cfg),
        SlippageActionDto::decl(&cfg),
        StartActionsDto::decl(&cfg),
        StopLossKind::decl(&cfg),
        TotalStopLossDto::decl(&cfg),
        RiskDto::decl(&cfg),
        CopySettingsDto::decl(&cfg),
        PreviewRequest::decl(&cfg),
        LastOpenDto::decl(&cfg),
        PreviewDto::decl(&cfg),
        NewCopyRequest::decl(&cfg),
        ModifyRequest::decl(&cfg),
        CopyStateDto::decl(&cfg),
        crate::runtime::hold::HoldKind::decl(&cfg),
        HoldDto::decl(&cfg),
        CopyDto::decl(&cfg),
        PositionDto::decl(&cfg),
        CopyFiguresDto::decl(&cfg),
        DecisionDto::decl(&cfg),
        FillDto::decl(&cfg),
        CopyStatusDto::decl(&cfg),
        LatencyDto::decl(&cfg),
        UnknownOrderDto::decl(&cfg),
        WeightDto::decl(&cfg),
        StatusDto::decl(&cfg),
        EventLevel::decl(&cfg),
        crate::runtime::NotifyKind::decl(&cfg),
        crate::engine::NoticeKind::decl(&cfg),
        crate::runtime::notify::StopCause::decl(&cfg),
        crate::runtime::notify::StreamRole::decl(&cfg),
        crate::runtime::notify::NotifyDetail::decl(&cfg),
        UnguardedDto::decl(&cfg),
        EventDto::decl(&cfg),
        ExportDto::decl(&cfg),
        AdoptedDto::decl(&cfg),
        LeftAloneDto::decl(&cfg),
        RepairDto::decl(&cfg),
        SymbolPrecisionDto::decl(&cfg),
        CopyPnlDto::decl(&cfg),
        CopyActivityDto::decl(&cfg),
        StatementKindDto::decl(&cfg),
        StatementOutcomeDto::decl(&cfg),
        StatementDto::decl(&cfg),
        ProfitShareDto::decl(&cfg),
    ];
    let mut out = String::from(
        "// Generated from the Rust DTOs in `copydesk::api` by `src/api/ts_bindings.rs`.\n\
         // Do not edit: run `UPDATE_TS_BINDINGS=1 cargo test -p copydesk ts_bindings`.\n\n",
    );
    for decl in decls {
        out.push_str("export ");
        out.push_str(&decl);
        out.push_str("\n\n");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[test]
fn ts_bindings_are_up_to_date() {
    let expected = render();
    if std::env::var_os("UPDATE_TS_BINDINGS").is_some() {
        let path = std::path::Path::new(PATH);
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
        std::fs::write(path, &expected).expect("write bindings");
    }
    let committed = std::fs::read_to_string(PATH).unwrap_or_default();
    assert_eq!(
        committed, expected,
        "ui/src/lib/generated/api.ts is stale: run UPDATE_TS_BINDINGS=1 cargo test -p copydesk ts_bindings"
    );
}
