// Which module page is showing. The hash mirrors it so a reload keeps the page.

export type ModuleId = "patients" | "chemotherapy" | "imaging" | "discharge" | "beds";

export interface ModuleLink {
  id: ModuleId;
  label: string;
  /** The digit that jumps here with Alt. */
  shortcut: string;
}

export const MODULES: readonly ModuleLink[] = [
  { id: "patients", label: "Find patient", shortcut: "1" },
  { id: "chemotherapy", label: "Chemotherapy", shortcut: "2" },
  { id: "imaging", label: "Imaging", shortcut: "3" },
  { id: "discharge", label: "Discharge summaries", shortcut: "4" },
  { id: "beds", label: "Bed board", shortcut: "5" },
];

function moduleFromHash(hash: string): ModuleId {
  const id = hash.replace(/^#\/?/, "");
  return MODULES.find((m) => m.id === id)?.id ?? "patients";
}

class Navigation {
  current = $state<ModuleId>(moduleFromHash(window.location.hash));

  go(id: ModuleId) {
    this.current = id;
    window.location.hash = `/${id}`;
  }

  /** Alt+1…5 jumps to a module from anywhere. Returns whether the key was used. */
  handleShortcut(event: KeyboardEvent): boolean {
    if (!event.altKey || event.ctrlKey || event.metaKey) return false;
    const target = MODULES.find((m) => event.code === `Digit${m.shortcut}` || event.key === m.shortcut);
    if (!target) return false;
    this.go(target.id);
    return true;
  }
}

export const navigation = new Navigation();
