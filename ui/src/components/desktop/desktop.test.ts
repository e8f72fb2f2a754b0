import { cleanup, fireEvent, render, screen, within } from "@testing-library/svelte";
import { afterEach, describe, expect, it, vi } from "vitest";
import DesktopSettings from "./DesktopSettings.svelte";
import QuitDialog from "./QuitDialog.svelte";
import ShellNotices from "./ShellNotices.svelte";
import { mockDesktop, tauriDesktop } from "../../lib/desktop";

afterEach(cleanup);

describe("DesktopSettings", () => {
  it("shows the safety kinds checked and locked, and turns an optional kind off", async () => {
    const d = mockDesktop();
    const change = vi.spyOn(d, "changeSettings");
    render(DesktopSettings, { desktop: d });
    const stops = (await screen.findByRole("checkbox", { name: /Stops \(stop loss/ })) as HTMLInputElement;
    expect(stops.checked).toBe(true);
    expect(stops.disabled).toBe(true);
    expect(stops.getAttribute("aria-describedby")).toBe("safety-why");
    for (const name of [/^Panic/, /without a protective stop/, /API key problems/, /Rate limits/]) {
      const box = screen.getByRole("checkbox", { name }) as HTMLInputElement;
      expect(box.disabled && box.checked, `${name} is always on`).toBe(true);
    }
    const fills = screen.getByRole("checkbox", { name: /^Fills/ }) as HTMLInputElement;
    expect(fills.disabled).toBe(false);
    await fireEvent.click(fills);
    expect(change).toHaveBeenCalledWith({ notifications: { fills: false } });
    await vi.waitFor(() => expect((screen.getByRole("checkbox", { name: /^Fills/ }) as HTMLInputElement).checked).toBe(false));
  });

  it("says closing minimises on a desktop without a tray, and why the computer cannot be kept awake", async () => {
    const d = mockDesktop({
      trayHost: false,
      inhibitor: { enabled: true, wanted: true, held: false, problem: "no system bus (connection refused)" },
    });
    render(DesktopSettings, { desktop: d });
    expect((await screen.findByTestId("tray-state")).textContent).toContain("shows no tray icons, so closing the window minimises");
    await vi.waitFor(() =>
      expect(screen.getByTestId("inhibitor-state").textContent).toContain("cannot keep the computer awake: no system bus (connection refused)"),
    );
  });

  it("shows the shell's refusal and puts the switch back", async () => {
    const d = mockDesktop();
    d.changeSettings = async () => {
      throw { code: "storage", message: "cannot write the desktop settings /x/desktop.json: denied" };
    };
    render(DesktopSettings, { desktop: d });
    const skips = (await screen.findByRole("checkbox", { name: /^Skipped signals/ })) as HTMLInputElement;
    await fireEvent.click(skips);
    expect((await screen.findByRole("alert")).textContent).toContain("/x/desktop.json: denied");
    expect(skips.checked).toBe(true);
  });

  it("Quit asks the shell", async () => {
    const d = mockDesktop();
    render(DesktopSettings, { desktop: d });
    await fireEvent.click(await screen.findByRole("button", { name: "Quit CopyDesk…" }));
    expect(d.calls).toEqual(["requestQuit"]);
  });
});

describe("QuitDialog", () => {
  it("lists positions without an exchange-side stop, each with why, and suspends", async () => {
    const d = mockDesktop();
    d.preview = {
      liveCopies: 2,
      unguarded: [{ copy: "alpha", symbol: "ADAUSDT", side: "long", qty: "41", why: "offline protection is off for this copy, so no stop is placed on the exchange" }],
    };
    render(QuitDialog, { desktop: d, onClose: () => {} });
    const dialog = await screen.findByRole("alertdialog", { name: "Quit CopyDesk?" });
    await within(dialog).findByText(/2 copies are running/);
    const list = within(dialog).getByRole("list", { name: /This position has no stop on the exchange/ });
    expect(list.textContent).toContain("ADAUSDT long 41 (alpha): offline protection is off");
    await fireEvent.click(within(dialog).getByRole("button", { name: "Suspend copying and quit" }));
    expect(d.calls).toEqual(["quitSuspend"]);
  });

  it("closes everything, and shows why when copies did not stop", async () => {
    const d = mockDesktop();
    d.preview = { liveCopies: 1, unguarded: [] };
    d.quitCloseAll = async () => {
      throw { code: "conflict", message: "1 copies are still stopping after 60 s" };
    };
    render(QuitDialog, { desktop: d, onClose: () => {} });
    await screen.findByText("Every open position has a confirmed stop on the exchange.");
    await fireEvent.click(screen.getByRole("button", { name: "Close all positions and quit" }));
    expect((await screen.findByRole("alert")).textContent).toContain("still stopping");
    expect((screen.getByRole("button", { name: "Cancel" }) as HTMLButtonElement).disabled).toBe(false);
  });
});

describe("ShellNotices", () => {
  it("shows why the window minimised, opens the quit dialog, and relays the tray's panic", async () => {
    const d = mockDesktop();
    d.preview = { liveCopies: 1, unguarded: [] };
    render(ShellNotices, { desktop: d });
    await vi.waitFor(() => d.emit({ kind: "minimised", message: "This desktop shows no tray icons, so CopyDesk minimised instead of closing" }));
    expect((await screen.findByTestId("shell-minimised")).textContent).toContain("minimised instead of closing");
    const panic = vi.fn();
    window.addEventListener("copydesk:panic-request", panic);
    d.emit({ kind: "panic-requested", message: null });
    expect(panic).toHaveBeenCalledTimes(1);
    d.emit({ kind: "quit-requested", message: null });
    await screen.findByRole("alertdialog", { name: "Quit CopyDesk?" });
    await fireEvent.click(screen.getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("alertdialog")).toBeNull();
  });
});

describe("tauriDesktop", () => {
  it("maps each method to its shell command and argument names", async () => {
    const inv = vi.fn(async () => null);
    const d = tauriDesktop(inv, async () => () => {});
    await d.settings();
    await d.changeSettings({ notifications: { fills: false } });
    await d.state();
    await d.requestQuit();
    await d.quitPreview();
    await d.quitSuspend();
    await d.quitCloseAll();
    expect(inv.mock.calls).toEqual([
      ["desktop_settings", undefined],
      ["desktop_settings_set", { change: { notifications: { fills: false } } }],
      ["desktop_state", undefined],
      ["quit_request", undefined],
      ["quit_preview", undefined],
      ["quit_suspend", undefined],
      ["quit_close_all", undefined],
    ]);
  });
});

describe("ShellNotices, wake and keep-awake", () => {
  it("says the copies reconcile after a wake, and leaves the keep-awake problem to Settings", async () => {
    const d = mockDesktop();
    render(ShellNotices, { desktop: d });
    await vi.waitFor(() => d.emit({ kind: "woke", message: "Checking your 2 copies against the exchange now" }));
    expect((await screen.findByTestId("shell-woke")).textContent).toContain("Checking your 2 copies");
    d.emit({ kind: "inhibitor-problem", message: "no system bus" });
    expect(screen.queryByTestId("shell-inhibitor-problem")).toBeNull();
  });
});
