// DTOs that cross IPC, generated from the Rust types in `copydesk::api` (ts-rs). The few
// names the UI uses for generated types with a `Dto` suffix are aliased here.
export type * from "./generated/api";
export type {
  KeyFindingDto as KeyFinding,
  KeyCheckKind as KeyCheckName,
  LeaderSourceDto as LeaderSource,
  EquityPointDto as EquityPoint,
  CopyModeDto as SizingMode,
  PresetDto as Preset,
  CopyStateDto as CopyState,
} from "./generated/api";
