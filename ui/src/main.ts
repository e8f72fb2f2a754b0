import { mount } from "svelte";
import "./app.css";
import App from "./App.svelte";
import { tauriBackend } from "./lib/ipc";
import { tauriDesktop } from "./lib/desktop";

const target = document.getElementById("app");
if (!target) throw new Error("index.html has no #app element");

mount(App, { target, props: { backend: tauriBackend(), desktop: tauriDesktop() } });
