// DTOs that cross IPC. Until the facade's ts-rs export lands in `./generated/api.ts`, they
// come from `./contract.ts` (FACADE.md, by hand); switching is this one import.
export type * from "./contract";
