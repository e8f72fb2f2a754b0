//! Tauri commands: each is one line that calls the core's `api::App` (through the managed
//! [`Engine`], which is read-only while another engine holds the data directory) inside
//! a tracing span. No logic lives here. Names are snake_case; arguments arrive camelCase.

use copydesk::api::{
    AccountDto, ApiError, AppInfo, CopyDto, CopySettingsDto, ExportDto, KeyCheckDto,
    LeaderAddedDto, LeaderDetailDto, LeaderDto, ModifyRequest, NewAccountRequest, NewCopyRequest,
    PaperDto, PositionModeDto, PreviewDto, PreviewRequest, ProfitShareDto, StatusDto,
    StopActionDto,
};
use copydesk::api::{CopyActivityDto, CopyPnlDto, FindPortfolioRequest};
use tauri::{AppHandle, Runtime, State};

use crate::desktop::{self, Desktop, DesktopStateDto, QuitPreviewDto};
use crate::engine::{Engine, EngineStateDto};
use crate::prefs::{DesktopSettingsChange, DesktopSettingsDto};

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn app_info(engine: State<'_, Engine>) -> Result<AppInfo, ApiError> {
    Ok(engine.info().await)
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub fn engine_state(engine: State<'_, Engine>) -> EngineStateDto {
    engine.state()
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn accounts_list(engine: State<'_, Engine>) -> Result<Vec<AccountDto>, ApiError> {
    engine.app()?.accounts().await
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn account_add(
    engine: State<'_, Engine>,
    req: NewAccountRequest,
) -> Result<AccountDto, ApiError> {
    engine.app()?.add_account(req).await
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn account_remove(engine: State<'_, Engine>, name: String) -> Result<(), ApiError> {
    engine.app()?.remove_account(&name).await
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn key_check(engine: State<'_, Engine>, name: String) -> Result<KeyCheckDto, ApiError> {
    engine.app()?.check_key(&name).await
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn account_set_position_mode(
    engine: State<'_, Engine>,
    name: String,
    mode: PositionModeDto,
) -> Result<PositionModeDto, ApiError> {
    engine.app()?.set_position_mode(&name, mode).await
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn paper_status(engine: State<'_, Engine>) -> Result<PaperDto, ApiError> {
    Ok(engine.app()?.paper().await)
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn paper_start(engine: State<'_, Engine>) -> Result<PaperDto, ApiError> {
    engine.app()?.start_paper().await
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn leaders_list(engine: State<'_, Engine>) -> Result<Vec<LeaderDto>, ApiError> {
    engine.app()?.leaders().await
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn leader_detail(
    engine: State<'_, Engine>,
    id: String,
) -> Result<LeaderDetailDto, ApiError> {
    engine.app()?.leader(&id).await
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn leader_add(
    engine: State<'_, Engine>,
    req: NewAccountRequest,
) -> Result<LeaderAddedDto, ApiError> {
    engine.app()?.add_leader(req).await
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn portfolio_find(
    engine: State<'_, Engine>,
    req: FindPortfolioRequest,
) -> Result<LeaderDto, ApiError> {
    engine.app()?.find_portfolio(req).await
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn settings_validate(
    engine: State<'_, Engine>,
    settings: CopySettingsDto,
) -> Result<(), ApiError> {
    engine.app()?.validate_settings(&settings)
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn sizing_preview(
    engine: State<'_, Engine>,
    req: PreviewRequest,
) -> Result<PreviewDto, ApiError> {
    engine.app()?.preview(req).await
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn copy_create(
    engine: State<'_, Engine>,
    req: NewCopyRequest,
) -> Result<CopyDto, ApiError> {
    engine.app()?.create_copy(req).await
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn copy_pause(engine: State<'_, Engine>, name: String) -> Result<(), ApiError> {
    engine.app()?.pause(&name).await
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn copy_resume(engine: State<'_, Engine>, name: String) -> Result<(), ApiError> {
    engine.app()?.resume(&name).await
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn copy_stop(
    engine: State<'_, Engine>,
    name: String,
    action: StopActionDto,
) -> Result<(), ApiError> {
    engine.app()?.stop(&name, action).await
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn copy_modify(
    engine: State<'_, Engine>,
    name: String,
    req: ModifyRequest,
) -> Result<(), ApiError> {
    engine.app()?.modify(&name, req).await
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn panic(engine: State<'_, Engine>) -> Result<(), ApiError> {
    engine.app()?.panic().await
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn position_close(
    engine: State<'_, Engine>,
    copy: String,
    symbol: String,
    side: String,
) -> Result<(), ApiError> {
    engine.app()?.close_position(&copy, &symbol, &side).await
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn position_unlink(
    engine: State<'_, Engine>,
    copy: String,
    symbol: String,
    side: String,
) -> Result<(), ApiError> {
    engine.app()?.unlink_position(&copy, &symbol, &side).await
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn status(engine: State<'_, Engine>) -> Result<StatusDto, ApiError> {
    engine.status().await
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn copy_pnl(engine: State<'_, Engine>, name: String) -> Result<CopyPnlDto, ApiError> {
    engine.app()?.copy_pnl(&name).await
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn activity(
    engine: State<'_, Engine>,
    copy: Option<String>,
    limit: Option<u32>,
) -> Result<Vec<CopyActivityDto>, ApiError> {
    engine
        .app()?
        .activity_page(
            copy.as_deref(),
            limit.unwrap_or(copydesk::api::ACTIVITY_PAGE),
        )
        .await
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn export(engine: State<'_, Engine>) -> Result<ExportDto, ApiError> {
    engine.app()?.export(None).await
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub fn desktop_settings(desktop: State<'_, Desktop>) -> Result<DesktopSettingsDto, ApiError> {
    desktop.settings()
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub fn desktop_settings_set(
    desktop: State<'_, Desktop>,
    change: DesktopSettingsChange,
) -> Result<DesktopSettingsDto, ApiError> {
    desktop.change_settings(&change)
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub fn desktop_state(desktop: State<'_, Desktop>) -> DesktopStateDto {
    desktop.state()
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub fn quit_request<R: Runtime>(app: AppHandle<R>) {
    desktop::request_quit(&app)
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn quit_preview<R: Runtime>(app: AppHandle<R>) -> Result<QuitPreviewDto, ApiError> {
    desktop::quit_preview(&app).await
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub fn quit_suspend<R: Runtime>(app: AppHandle<R>) {
    desktop::exit(&app)
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn quit_close_all<R: Runtime>(app: AppHandle<R>) -> Result<(), ApiError> {
    desktop::quit_close_all(&app).await
}

#[cfg(test)]
mod tests {
    use copydesk::api::AppOptions;
    use tauri::ipc::{CallbackFn, InvokeBody};
    use tauri::test::{get_ipc_response, mock_builder, MockRuntime, INVOKE_KEY};
    use tauri::webview::InvokeRequest;

    /// The app on the mock runtime with a paper-mode App in `dir`, and its main webview.
    fn app(dir: &std::path::Path) -> (tauri::App<MockRuntime>, tauri::WebviewWindow<MockRuntime>) {
        let mut opts = AppOptions::new(dir);
        opts.keychain = copydesk::secrets::Keychain::with_service(format!(
            "{}.cmd-test.{}",
            copydesk::paths::APP_IDENTIFIER,
            std::process::id()
        ));
        let mut app = crate::builder(mock_builder(), opts, |_| Ok(()))
            .build(tauri::generate_context!())
            .expect("the app builds on the mock runtime");
        // One turn of the (mock) event loop runs `setup`, which opens the App.
        #[allow(deprecated)]
        app.run_iteration(|_, _| {});
        // The configured main window exists once `setup` ran.
        let webview = match tauri::Manager::get_webview_window(&app, "main") {
            Some(w) => w,
            None => tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
                .build()
                .expect("a mock webview opens"),
        };
        (app, webview)
    }

    fn invoke(
        webview: &tauri::WebviewWindow<MockRuntime>,
        cmd: &str,
        body: serde_json::Value,
    ) -> Result<serde_json::Value, serde_json::Value> {
        get_ipc_response(
            webview,
            InvokeRequest {
                cmd: cmd.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: "tauri://localhost".parse().expect("static url"),
                body: InvokeBody::Json(body),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|r| r.deserialize().expect("reply is JSON"))
    }

    #[test]
    fn app_info_replies_with_the_core_dto() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (_app, webview) = app(dir.path());
        let json = invoke(&webview, "app_info", serde_json::json!({})).expect("app_info succeeds");
        assert_eq!(json["name"], "CopyDesk", "the reply names the app: {json}");
        assert_eq!(
            json["dataDir"],
            dir.path().display().to_string(),
            "camelCase DTO: {json}"
        );
        assert_eq!(
            json["mode"], "paper",
            "a fresh app is in paper mode: {json}"
        );
        assert_eq!(json["paper"]["running"], true, "paper mode started: {json}");
    }

    #[test]
    fn accounts_list_and_settings_validate_reply_with_data_and_field_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (_app, webview) = app(dir.path());
        let accounts = invoke(&webview, "accounts_list", serde_json::json!({}))
            .expect("accounts_list succeeds");
        let list = accounts.as_array().expect("a list");
        assert!(
            list.iter()
                .any(|a| a["name"] == "paper" && a["paper"] == true && a["environment"] == "paper"),
            "the funded paper account is listed: {accounts}"
        );
        let mut settings = serde_json::to_value(copydesk::api::settings::to_dto(
            &copydesk::domain::CopySettings {
                mode: copydesk::domain::CopyMode::SmartSync,
                investment: Some(50.into()),
                amount_per_order: None,
                ratio: None,
                copy_ongoing_positions: false,
                preset: copydesk::domain::Preset::None,
                start: Default::default(),
                risk: Default::default(),
            },
        ))
        .expect("settings serialise");
        let err = invoke(
            &webview,
            "settings_validate",
            serde_json::json!({ "settings": settings.clone() }),
        )
        .expect_err("an investment of 50 is refused");
        assert_eq!(err["code"], "invalid_input", "{err}");
        assert_eq!(
            err["field"], "investment",
            "the error names the field: {err}"
        );
        settings["investment"] = "1000".into();
        invoke(
            &webview,
            "settings_validate",
            serde_json::json!({ "settings": settings }),
        )
        .expect("1000 passes");
    }

    #[test]
    fn desktop_settings_refuse_a_safety_kind_over_ipc_and_store_an_optional_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (_app, webview) = app(dir.path());
        let err = invoke(
            &webview,
            "desktop_settings_set",
            serde_json::json!({ "change": { "notifications": { "stops": false } } }),
        )
        .expect_err("stops cannot be turned off");
        assert_eq!(err["code"], "invalid_input", "{err}");
        assert_eq!(err["field"], "notifications.stops", "{err}");
        let set = invoke(
            &webview,
            "desktop_settings_set",
            serde_json::json!({ "change": { "notifications": { "fills": false }, "inhibitSleep": false } }),
        )
        .expect("fills may be turned off");
        assert_eq!(set["inhibitSleep"], false, "{set}");
        let fills = set["notifications"]
            .as_array()
            .and_then(|a| a.iter().find(|n| n["kind"] == "fills"))
            .cloned()
            .expect("fills listed");
        assert_eq!(fills["enabled"], false, "{set}");
        assert!(
            dir.path().join("desktop.json").exists(),
            "stored in the data directory"
        );
        let state = invoke(&webview, "desktop_state", serde_json::json!({})).expect("state");
        assert!(state["trayHost"].is_boolean(), "{state}");
    }
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub fn profit_share(engine: State<'_, Engine>, name: String) -> Result<ProfitShareDto, ApiError> {
    engine.profit_share(&name)
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub fn profit_share_set(
    engine: State<'_, Engine>,
    name: String,
    ratio: Option<String>,
) -> Result<ProfitShareDto, ApiError> {
    engine.app()?.set_profit_share(&name, ratio.as_deref())
}
