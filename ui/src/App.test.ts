import { render, screen } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import App from "./App.svelte";
import type { Backend } from "./lib/ipc";

function backendWith(appInfo: Backend["appInfo"]): Backend {
  return { appInfo };
}

describe("App", () => {
  it("shows the heading and the mode reported by the backend", async () => {
    render(App, {
      backend: backendWith(async () => ({
        name: "CopyDesk",
        version: "9.9.9",
        mode: "paper",
        dataDir: "/tmp/x",
        paper: { running: false, endpoint: null, account: null, balance: null },
      })),
    });
    expect(screen.getByRole("heading", { level: 1 }).textContent).toBe("CopyDesk");
    expect(await screen.findByText(/Paper mode · version 9\.9\.9/)).toBeTruthy();
  });

  it("shows the backend's error message instead of crashing", async () => {
    render(App, {
      backend: backendWith(async () => {
        throw { code: "storage", message: "the database is newer than this app" };
      }),
    });
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toBe("the database is newer than this app");
  });
});
