// What the signed-in person may do, asked of Rust after each sign-in, so a
// screen offers only the acts they may take. It is never the check: Rust
// refuses every act whose permission the session lacks.

import { commands, type Permission } from "./bindings";

class Permissions {
  held = $state<Permission[]>([]);

  has(permission: Permission): boolean {
    return this.held.includes(permission);
  }

  async refresh() {
    const answer = await commands.sessionPermissions();
    this.held = answer.status === "ok" ? answer.data : [];
  }
}

export const permissions = new Permissions();
