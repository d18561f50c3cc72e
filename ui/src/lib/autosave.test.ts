import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Autosaver, type SaveState } from "./autosave";

describe("autosave", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("saves once typing stops, and not before", async () => {
    const save = vi.fn(async () => true);
    const states: SaveState[] = [];
    const saver = new Autosaver(save, (s) => states.push(s), 1500, 5000);
    saver.changed();
    await vi.advanceTimersByTimeAsync(1000);
    saver.changed();
    await vi.advanceTimersByTimeAsync(1000);
    expect(save).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(600);
    expect(save).toHaveBeenCalledTimes(1);
    expect(states.at(-1)).toBe("saved");
  });

  it("saves every few seconds while typing goes on", async () => {
    const save = vi.fn(async () => true);
    const saver = new Autosaver(save, () => {}, 1500, 5000);
    saver.start();
    for (let i = 0; i < 12; i++) {
      saver.changed();
      await vi.advanceTimersByTimeAsync(1000);
    }
    expect(save.mock.calls.length).toBeGreaterThanOrEqual(2);
    saver.stop();
  });

  it("keeps a failed save unsaved and tries it again", async () => {
    let ok = false;
    const save = vi.fn(async () => ok);
    const states: SaveState[] = [];
    const saver = new Autosaver(save, (s) => states.push(s), 1500, 5000);
    saver.start();
    saver.changed();
    await vi.advanceTimersByTimeAsync(1600);
    expect(states.at(-1)).toBe("failed");
    expect(saver.hasUnsaved).toBe(true);
    ok = true;
    await vi.advanceTimersByTimeAsync(5000);
    expect(states.at(-1)).toBe("saved");
    expect(saver.hasUnsaved).toBe(false);
    saver.stop();
  });

  it("saves a change made during a save after it, one save at a time", async () => {
    let release: (ok: boolean) => void = () => {};
    let running = 0;
    let most = 0;
    const save = vi.fn(
      () =>
        new Promise<boolean>((resolve) => {
          running++;
          most = Math.max(most, running);
          release = (ok) => {
            running--;
            resolve(ok);
          };
        }),
    );
    const saver = new Autosaver(save, () => {}, 1500, 5000);
    saver.changed();
    const first = saver.flush();
    saver.changed();
    const second = saver.flush();
    release(true);
    await vi.advanceTimersByTimeAsync(0);
    release(true);
    await Promise.all([first, second]);
    expect(save).toHaveBeenCalledTimes(2);
    expect(most).toBe(1);
  });
});
