/**
 * The webmail's entry point: mounts the app. The app is a JMAP client; it imports nothing
 * from the server's code.
 *
 * @module
 */
/// <reference lib="dom" />
import { render } from "preact";
import { App } from "./app.tsx";
import "./style.css";

render(<App />, document.getElementById("app")!);
