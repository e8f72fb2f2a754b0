// The only module that calls `invoke`. Components receive a `Backend`, so tests pass a
// mock and never touch Tauri.
import { invoke } from "@tauri-apps/api/core";
import type { ApiError, AppInfo } from "./types";

export interface Backend {
  appInfo(): Promise<AppInfo>;
}

/** Normalises whatever a command rejected with into an `ApiError`. */
export function toApiError(raw: unknown): ApiError {
  if (raw && typeof raw === "object" && "code" in raw && "message" in raw) {
    return raw as ApiError;
  }
  return { code: "internal", message: String(raw) };
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (raw) {
    throw toApiError(raw);
  }
}

export const tauriBackend: Backend = {
  appInfo: () => call<AppInfo>("app_info"),
};

/** Start at login (the Settings toggle, `StartAtLogin.svelte`). */
export interface AutostartBackend {
  autostartEnabled(): Promise<boolean>;
  /** Turns it on or off; resolves to the new state. */
  setAutostart(enabled: boolean): Promise<boolean>;
}

export const tauriAutostart: AutostartBackend = {
  autostartEnabled: () => call<boolean>("autostart_enabled"),
  setAutostart: (enabled) => call<boolean>("autostart_set", { enabled }),
};
