// The desktop shell's own commands and events (src-tauri: tray, notifications, sleep
// inhibitor, quit), apart from the core facade's `Backend` in `./ipc.ts`. The types mirror
// the shell's DTOs in `src-tauri/src/{prefs,sleep,desktop}.rs` (the shell has no generated
// bindings; `desktop.test.ts` checks the command and argument names).
import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import { toApiError } from "./ipc";
import type { UnguardedDto } from "./types";

export type NotificationKind =
  | "fills"
  | "skips"
  | "disconnects"
  | "errors"
  | "stops"
  | "panic"
  | "unprotected"
  | "key-problems"
  | "rate-limit";

export type NotificationKindDto = { kind: NotificationKind; label: string; enabled: boolean; safety: boolean };
export type DesktopSettingsDto = { notifications: NotificationKindDto[]; inhibitSleep: boolean };
export type DesktopSettingsChange = { notifications?: Partial<Record<NotificationKind, boolean>>; inhibitSleep?: boolean };
export type InhibitState = { enabled: boolean; wanted: boolean; held: boolean; problem: string | null };
export type DesktopStateDto = { trayHost: boolean; inhibitor: InhibitState };
export type QuitPreviewDto = { liveCopies: number; unguarded: UnguardedDto[] };
export type ShellEventKind = "quit-requested" | "panic-requested" | "minimised" | "woke" | "inhibitor-problem";
export type ShellEventDto = { kind: ShellEventKind; message: string | null };

/** The shell event's name (`desktop::SHELL_EVENT`). */
export const SHELL_EVENT = "copydesk://shell";

export interface DesktopBackend {
  settings(): Promise<DesktopSettingsDto>;
  /** Rejects with an `ApiError` naming the field when a safety kind is turned off. */
  changeSettings(change: DesktopSettingsChange): Promise<DesktopSettingsDto>;
  state(): Promise<DesktopStateDto>;
  /** Quits at once when no copy runs; otherwise the shell answers with `quit-requested`. */
  requestQuit(): Promise<void>;
  quitPreview(): Promise<QuitPreviewDto>;
  /** Quits; running copies resume at the next launch. */
  quitSuspend(): Promise<void>;
  /** Stops every copy with close-all, waits for them, then quits. */
  quitCloseAll(): Promise<void>;
  onShellEvent(handler: (e: ShellEventDto) => void): Promise<() => void>;
}

type Invoke = (cmd: string, args?: Record<string, unknown>) => Promise<unknown>;
type Listen = (event: string, handler: (e: { payload: unknown }) => void) => Promise<() => void>;

export function tauriDesktop(inv: Invoke = invoke, lis: Listen = listen): DesktopBackend {
  async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
    try {
      return (await inv(command, args)) as T;
    } catch (raw) {
      throw toApiError(raw);
    }
  }
  return {
    settings: () => call("desktop_settings"),
    changeSettings: (change) => call("desktop_settings_set", { change }),
    state: () => call("desktop_state"),
    requestQuit: () => call("quit_request"),
    quitPreview: () => call("quit_preview"),
    quitSuspend: () => call("quit_suspend"),
    quitCloseAll: () => call("quit_close_all"),
    onShellEvent: (handler) => lis(SHELL_EVENT, (e) => handler(e.payload as ShellEventDto)),
  };
}

const LABELS: Record<NotificationKind, string> = {
  fills: "Fills",
  skips: "Skipped signals",
  disconnects: "Disconnects of more than a few seconds",
  errors: "Errors and refused orders",
  stops: "Stops (stop loss, take profit, stopped by you)",
  panic: "Panic",
  unprotected: "Positions without a protective stop",
  "key-problems": "API key problems (revoked, wrong, missing permission)",
  "rate-limit": "Rate limits and bans by the exchange",
};
const SAFETY = new Set<NotificationKind>(["stops", "panic", "unprotected", "key-problems", "rate-limit"]);

/** A desktop backend with no window behind it, for component tests and the mock UI: it
 * keeps settings in memory and refuses safety kinds as the shell does. */
export function mockDesktop(init: Partial<DesktopStateDto> = {}): DesktopBackend & {
  emit(e: ShellEventDto): void;
  calls: string[];
  preview: QuitPreviewDto;
} {
  const off = new Set<NotificationKind>();
  let inhibitSleep = true;
  const handlers: ((e: ShellEventDto) => void)[] = [];
  const calls: string[] = [];
  const dto = (): DesktopSettingsDto => ({
    notifications: (Object.keys(LABELS) as NotificationKind[]).map((kind) => ({
      kind,
      label: LABELS[kind],
      enabled: SAFETY.has(kind) || !off.has(kind),
      safety: SAFETY.has(kind),
    })),
    inhibitSleep,
  });
  const backend = {
    calls,
    preview: { liveCopies: 0, unguarded: [] } as QuitPreviewDto,
    settings: async () => dto(),
    changeSettings: async (change: DesktopSettingsChange) => {
      for (const [k, on] of Object.entries(change.notifications ?? {}) as [NotificationKind, boolean][]) {
        if (SAFETY.has(k) && !on)
          throw { code: "invalid_input", field: `notifications.${k}`, message: `${LABELS[k]} notifications cannot be turned off.` };
        if (on) off.delete(k);
        else off.add(k);
      }
      if (change.inhibitSleep !== undefined) inhibitSleep = change.inhibitSleep;
      return dto();
    },
    state: async () => ({
      trayHost: init.trayHost ?? false,
      inhibitor: init.inhibitor ?? { enabled: inhibitSleep, wanted: false, held: false, problem: null },
    }),
    requestQuit: async () => {
      calls.push("requestQuit");
    },
    quitPreview: async () => backend.preview,
    quitSuspend: async () => {
      calls.push("quitSuspend");
    },
    quitCloseAll: async () => {
      calls.push("quitCloseAll");
    },
    onShellEvent: async (h: (e: ShellEventDto) => void) => {
      handlers.push(h);
      return () => handlers.splice(handlers.indexOf(h), 1);
    },
    emit: (e: ShellEventDto) => handlers.forEach((h) => h(e)),
  };
  return backend;
}
