//! Tauri commands: each is one line that calls the core's `api` facade, inside a tracing
//! span. No logic lives here.

use crate::AppState;
use copydesk::api::{self, ApiError, AppInfo};

#[tauri::command]
#[tracing::instrument(skip_all)]
pub fn app_info(state: tauri::State<'_, AppState>) -> Result<AppInfo, ApiError> {
    Ok(api::app_info(&state.data_dir))
}

#[cfg(test)]
mod tests {
    use tauri::ipc::{CallbackFn, InvokeBody};
    use tauri::test::{get_ipc_response, mock_builder, INVOKE_KEY};
    use tauri::webview::InvokeRequest;

    #[test]
    fn app_info_replies_with_the_core_dto() {
        let dir = std::path::PathBuf::from("/tmp/copydesk-cmd-test");
        let app = crate::builder(mock_builder(), dir)
            .build(tauri::generate_context!())
            .expect("the app builds on the mock runtime");
        let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .expect("a mock webview opens");
        let reply = get_ipc_response(
            &webview,
            InvokeRequest {
                cmd: "app_info".into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: "tauri://localhost".parse().expect("static url"),
                body: InvokeBody::default(),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .expect("app_info succeeds");
        let json: serde_json::Value = reply.deserialize().expect("reply is JSON");
        assert_eq!(json["name"], "CopyDesk", "the reply names the app: {json}");
        assert_eq!(
            json["dataDir"], "/tmp/copydesk-cmd-test",
            "camelCase DTO: {json}"
        );
        assert_eq!(
            json["mode"], "paper",
            "a fresh app is in paper mode: {json}"
        );
    }
}
