// DTOs that cross IPC, generated from the Rust types in `copydesk::api`.
export type { ApiError, AppInfo, ErrorCode } from "./generated/api";
