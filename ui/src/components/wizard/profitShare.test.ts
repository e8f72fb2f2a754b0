// The wizard's optional profit-share ratio: the core's message under the field (naming it
// and the fix), Next held with that reason, and a valid ratio sent with the new copy.
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import { createMockBackend } from "../../lib/mock";
import { AppStore } from "../../lib/store.svelte";
import { WizardState } from "../../lib/wizard.svelte";
import type { NewCopyRequest } from "../../lib/types";
import ProfitShareField from "./ProfitShareField.svelte";
import RiskStep from "./RiskStep.svelte";

async function setup() {
  const b = createMockBackend();
  const store = new AppStore(b);
  await store.start();
  const wiz = new WizardState(store);
  return { b, store, wiz };
}

const field = () => screen.getByLabelText("Profit-share ratio") as HTMLInputElement;

describe("ProfitShareField", () => {
  it("is optional: empty sends no ratio and blocks nothing", async () => {
    const { wiz } = await setup();
    render(ProfitShareField, { wiz });
    expect(field().value).toBe("");
    expect(wiz.settings()?.profitShareRatio).toBeUndefined();
    await fireEvent.blur(field());
    await waitFor(() => expect(wiz.errors["profitShareRatio"]).toBeUndefined());
  });

  it("shows the core's message under the field on blur, and Next's reason in the Risk step", async () => {
    const { b, wiz } = await setup();
    wiz.step = 3;
    render(RiskStep, { wiz });
    await fireEvent.input(field(), { target: { value: "0.5" } });
    await fireEvent.blur(field());
    const msg = await screen.findByText(/0.5 is outside the allowed range; set a ratio above 0 and at most 0.3 \(30 %\)/, {
      selector: "#wizard-profit-share-ratio-error",
    });
    expect(msg).toBeTruthy();
    expect(field().getAttribute("aria-invalid")).toBe("true");
    expect(wiz.blocker).toContain("outside the allowed range");
    const sent = b.calls.filter((c) => c.method === "validateSettings").at(-1)!.args[0] as { profitShareRatio?: string };
    expect(sent.profitShareRatio).toBe("0.5");
    await fireEvent.input(field(), { target: { value: "ten" } });
    await fireEvent.blur(field());
    expect(await screen.findByText(/`ten` is not a ratio; write a decimal like "0.1"/)).toBeTruthy();
    await fireEvent.input(field(), { target: { value: "0.2" } });
    await fireEvent.blur(field());
    await waitFor(() => expect(wiz.blocker).toBeNull());
  });

  it("sends a valid ratio with the new copy, which then has it as its profit share", async () => {
    const { b, store, wiz } = await setup();
    wiz.follower = "paper";
    wiz.leaderId = "demo-steady";
    wiz.copyName = "shared";
    wiz.profitShareRatio = " 0.15 ";
    expect(await wiz.start()).toBe(true);
    const req = b.calls.find((c) => c.method === "createCopy")!.args[0] as NewCopyRequest;
    expect(req.settings.profitShareRatio).toBe("0.15");
    expect((await store.backend.profitShare("shared")).ratio).toBe("0.15");
  });
});
