import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";
import { afterEach, describe, expect, it, vi } from "vitest";
import StartAtLogin from "./StartAtLogin.svelte";
import type { AutostartBackend } from "./ipc";

function backend(initial: boolean, set?: AutostartBackend["setAutostart"]): AutostartBackend {
  let on = initial;
  return {
    autostartEnabled: vi.fn(async () => on),
    setAutostart: vi.fn(set ?? (async (enabled: boolean) => (on = enabled))),
  };
}

describe("StartAtLogin", () => {
  afterEach(cleanup);

  it("is not offered before the first copy has started", () => {
    const b = backend(false);
    render(StartAtLogin, { backend: b, offered: false });
    expect(screen.queryByTestId("start-at-login")).toBeNull();
    expect(b.autostartEnabled).not.toHaveBeenCalled();
  });

  it("once offered, shows the current state, off by default, and turns it on", async () => {
    const b = backend(false);
    render(StartAtLogin, { backend: b, offered: true });
    const box = (await screen.findByTestId("start-at-login")) as HTMLInputElement;
    await vi.waitFor(() => expect(box.disabled).toBe(false));
    expect(box.checked).toBe(false);

    await fireEvent.click(box);
    expect(b.setAutostart).toHaveBeenCalledWith(true);
    await vi.waitFor(() => expect(box.checked).toBe(true));
  });

  it("shows the backend's message when the entry cannot be written, and stays off", async () => {
    const b = backend(false, async () => {
      throw { code: "storage", message: "start at login could not be changed: /x/autostart: denied" };
    });
    render(StartAtLogin, { backend: b, offered: true });
    const box = (await screen.findByTestId("start-at-login")) as HTMLInputElement;
    await vi.waitFor(() => expect(box.disabled).toBe(false));
    await fireEvent.click(box);
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("/x/autostart: denied");
    await vi.waitFor(() => expect(box.checked).toBe(false));
  });
});
