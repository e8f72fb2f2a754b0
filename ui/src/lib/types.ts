// DTOs that cross IPC. They mirror `copydesk::api` (serde camelCase, decimals as strings).

/** The one error every command may return: branch on `code`, show `message`. */
export interface ApiError {
  code:
    | "invalid_input"
    | "not_found"
    | "conflict"
    | "exchange"
    | "keychain"
    | "storage"
    | "internal";
  message: string;
}

export interface AppInfo {
  name: string;
  version: string;
  mode: "paper" | "live";
  dataDir: string;
}
