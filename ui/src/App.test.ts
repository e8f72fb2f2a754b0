import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import App from "./App.svelte";
import { createMockBackend } from "./lib/mock";
import { defaultSettings } from "./lib/settings";

describe("App", () => {
  it("first start lands on Copies in paper mode with the empty state and one action", async () => {
    render(App, { backend: createMockBackend() });
    expect(await screen.findByRole("heading", { level: 1, name: "Copies" })).toBeTruthy();
    expect(await screen.findByText("No copies yet")).toBeTruthy();
    expect(screen.getByText("PAPER")).toBeTruthy();
    expect(screen.getByText("Paper trading: simulated money, no real orders.")).toBeTruthy();
    await fireEvent.click(screen.getByRole("button", { name: "Start a paper copy" }));
    expect(await screen.findByRole("heading", { level: 1, name: "New copy" })).toBeTruthy();
    expect(screen.getByRole("heading", { level: 2 }).textContent).toBe("Step 1 of 5: Account");
  });

  it("a copy started elsewhere appears when its event arrives (no polling)", async () => {
    const b = createMockBackend();
    render(App, { backend: b });
    await screen.findByText("No copies yet");
    await b.createCopy({ name: "steady", leader: "demo-steady", follower: "paper", settings: defaultSettings() });
    b.emit({ tsMs: Date.now(), copy: "steady", level: "info", kind: "started", notice: null, message: "copy steady started" });
    expect(await screen.findByRole("article", { name: "Copy steady" })).toBeTruthy();
    expect(screen.getByText("Steady Trend → paper · Smart Sync 1,000 USDT")).toBeTruthy();
  });

  it("says plainly why it could not start when another engine holds the data directory", async () => {
    const b = createMockBackend();
    b.failNext("appInfo", { code: "locked", message: "Another CopyDesk uses /data.", field: null });
    render(App, { backend: b });
    expect((await screen.findByRole("alert")).textContent).toBe("Another CopyDesk uses /data.");
    expect(screen.getByText(/Close it, then open CopyDesk again/)).toBeTruthy();
  });

  it("while another engine holds the data directory, shows its status read-only under a banner", async () => {
    const message =
      "Another CopyDesk engine (copydesk run, pid 4242) is using this data directory: showing read-only status.";
    const b = createMockBackend({ engine: { mode: "readOnly", message } });
    render(App, { backend: b });
    expect((await screen.findByTestId("read-only-banner")).textContent).toBe(message);
    expect(await screen.findByRole("heading", { level: 1, name: "Copies" })).toBeTruthy();
    await waitFor(() => expect(b.calls.some((c) => c.method === "status")).toBe(true));
    // Nothing but the status is read: the engine is someone else's.
    expect(b.calls.some((c) => c.method === "accounts" || c.method === "leaders")).toBe(false);
  });

  it("shows a could-not-start screen with the engine's message when it failed to open", async () => {
    const b = createMockBackend({ engine: { mode: "failed", message: "cannot open the database: disk I/O error" } });
    render(App, { backend: b });
    expect(await screen.findByRole("heading", { name: "CopyDesk could not start" })).toBeTruthy();
    expect(screen.getByRole("alert").textContent).toBe("cannot open the database: disk I/O error");
    expect(b.calls.some((c) => c.method === "appInfo")).toBe(false);
  });

  it("the sidebar reaches every section", async () => {
    render(App, { backend: createMockBackend() });
    await screen.findByText("No copies yet");
    for (const name of ["Leaders", "Accounts", "Activity", "Settings"]) {
      await fireEvent.click(screen.getByRole("button", { name }));
      await waitFor(() => expect(screen.getByRole("heading", { level: 1, name })).toBeTruthy());
    }
  });

  it("? lists the shortcuts; n opens the wizard; keys typed in a field are left alone", async () => {
    render(App, { backend: createMockBackend() });
    await screen.findByText("No copies yet");
    await fireEvent.keyDown(window, { key: "?" });
    expect(screen.getByRole("dialog", { name: "Keyboard shortcuts" })).toBeTruthy();
    await fireEvent.click(screen.getByRole("button", { name: "Close" }));
    await fireEvent.keyDown(window, { key: "l" });
    expect(screen.getByRole("heading", { level: 1, name: "Leaders" })).toBeTruthy();
    await fireEvent.keyDown(screen.getByLabelText("Filter by name"), { key: "n" });
    expect(screen.getByRole("heading", { level: 1, name: "Leaders" })).toBeTruthy();
    await fireEvent.keyDown(window, { key: "n" });
    expect(await screen.findByRole("heading", { level: 1, name: "New copy" })).toBeTruthy();
  });
});
