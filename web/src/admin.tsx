/**
 * The admin console's entry point (served at `/admin/`): mounts the console. Like the
 * webmail it imports nothing from the server's code; it talks only to `/api/admin/`.
 *
 * @module
 */
/// <reference lib="dom" />
import { render } from "preact";
import { AdminApp } from "./admin/app.tsx";
import "./style.css";
import "./admin/admin.css";

render(<AdminApp />, document.getElementById("app")!);
