// The UI's view of the session. Rust owns the session; this only reflects the
// last answer it gave, and clears patient context whenever the session ends.

import { listen } from "@tauri-apps/api/event";
import { commands, type CommandError, type SessionState, type StaffUser } from "./bindings";
import { patientContext } from "./patient-context.svelte";

/** Typing and pointing tell Rust at most this often that someone is at the keyboard. */
const ACTIVITY_REPORT_MS = 5_000;

class SessionView {
  state = $state<SessionState>({ state: "signed_out" });
  error = $state<CommandError | null>(null);
  private lastActivityReport = 0;

  get user(): StaffUser | null {
    return this.state.state === "active" ? this.state.user : null;
  }

  get locked(): boolean {
    return this.state.state === "locked";
  }

  /** Follows changes Rust makes on its own: a card pulled out, an inactivity lock. */
  async follow() {
    await listen<SessionState>("session-changed", (event) => this.show(event.payload));
  }

  /** Signs in with the card of this serial: a label can be shared by two cards, a serial cannot. */
  async cardSignIn(serial: string, pin: string) {
    this.apply(await commands.cardSignIn(serial, pin));
  }

  async lock() {
    this.apply(await commands.lockSession());
  }

  /** Someone typed, pointed or scrolled: the inactivity lock (kept in Rust) waits. */
  noteActivity(now = Date.now()) {
    if (!this.user || now - this.lastActivityReport < ACTIVITY_REPORT_MS) return;
    this.lastActivityReport = now;
    void commands.recordActivity();
  }

  /** Call with any command's error: a refusal for want of a session returns the screen to sign-in or the lock. */
  noticeRefusal(error: CommandError) {
    if (error.code === "session.not_signed_in") {
      this.state = { state: "signed_out" };
      patientContext.clear();
    }
    if (error.code === "session.locked") {
      patientContext.clear();
      void this.refresh();
    }
  }

  async refresh() {
    this.apply(await commands.sessionState());
  }

  async signIn(userId: string) {
    this.apply(await commands.signIn(userId));
  }

  async signOut() {
    this.apply(await commands.signOut());
  }

  private apply(result: { status: "ok"; data: SessionState } | { status: "error"; error: CommandError }) {
    if (result.status === "error") {
      this.error = result.error;
      return;
    }
    this.error = null;
    this.show(result.data);
  }

  private show(state: SessionState) {
    // Patient data goes first, so nothing of it is on screen once the session is
    // not active, nor once another person's session has taken its place.
    const previous = this.state.state === "active" ? this.state.user.user_id : null;
    if (state.state !== "active" || state.user.user_id !== previous) patientContext.clear();
    this.state = state;
  }
}

export const session = new SessionView();
