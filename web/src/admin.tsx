/**
 * The admin console's entry point (served at `/admin/`): mounts the console, or at
 * `/signup/TOKEN` the page of a one-time sign-up link. Like the webmail it imports nothing
 * from the server's code; it talks only to `/api/admin/` (and `/api/signup/`).
 *
 * @module
 */
/// <reference lib="dom" />
import { render } from "preact";
import { AdminApp } from "./admin/app.tsx";
import { SignupPage } from "./admin/signup.tsx";
import "./style.css";
import "./admin/admin.css";

const signup = /^\/signup\/([A-Za-z0-9_-]+)$/.exec(location.pathname);
render(
  signup ? <SignupPage token={signup[1]} /> : <AdminApp />,
  document.getElementById("app")!,
);
