// Saves a draft as the author works: a few seconds after typing stops, every
// few seconds while it goes on, and at once when they leave a field. One save
// at a time; a change made while one is in flight is saved after it; a failed
// save leaves the draft marked unsaved and is tried again.

export type SaveState = "saved" | "unsaved" | "saving" | "failed";

export class Autosaver {
  private dirty = false;
  private inFlight: Promise<void> | null = null;
  private quiet: ReturnType<typeof setTimeout> | null = null;
  private every: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly save: () => Promise<boolean>,
    private readonly onState: (state: SaveState) => void,
    private readonly quietMs = 1500,
    private readonly everyMs = 5000,
  ) {}

  /** Starts the periodic save. */
  start() {
    this.every ??= setInterval(() => void this.flush(), this.everyMs);
  }

  /** Stops every timer; unsaved changes stay marked. */
  stop() {
    if (this.every) clearInterval(this.every);
    if (this.quiet) clearTimeout(this.quiet);
    this.every = null;
    this.quiet = null;
  }

  /** Something was typed or chosen. */
  changed() {
    this.dirty = true;
    this.onState("unsaved");
    if (this.quiet) clearTimeout(this.quiet);
    this.quiet = setTimeout(() => void this.flush(), this.quietMs);
  }

  get hasUnsaved(): boolean {
    return this.dirty;
  }

  /** Saves now if anything is unsaved; resolves when the draft is as saved as it can be. */
  async flush(): Promise<void> {
    if (this.inFlight) {
      await this.inFlight;
      if (this.dirty) return this.flush();
      return;
    }
    if (!this.dirty) return;
    this.dirty = false;
    this.onState("saving");
    this.inFlight = this.save().then(
      (ok) => {
        if (!ok) this.dirty = true;
        this.onState(ok ? (this.dirty ? "unsaved" : "saved") : "failed");
      },
      () => {
        this.dirty = true;
        this.onState("failed");
      },
    );
    try {
      await this.inFlight;
    } finally {
      this.inFlight = null;
    }
  }
}
