// Confirmation for destructive actions: a native modal <dialog> (focus trapped, Escape cancels, no inline script).
import { h } from "./dom.ts";

/** Resolves true when the operator confirms. The confirm button is named after the action. */
export function confirmAction(title: string, message: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    const cancel = h("button", { type: "button", class: "secondary", value: "cancel" }, "Cancel");
    const ok = h("button", { type: "button", class: "danger", value: "ok" }, confirmLabel);
    const titleId = `dialog-title-${Date.now()}`;
    const dialog = h(
      "dialog",
      { "aria-labelledby": titleId, class: "confirm" },
      h("h2", { id: titleId }, title),
      h("p", {}, message),
      h("div", { class: "buttons" }, cancel, ok),
    );
    let answered = false;
    const done = (answer: boolean) => {
      if (answered) return;
      answered = true;
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    cancel.addEventListener("click", () => done(false));
    ok.addEventListener("click", () => done(true));
    dialog.addEventListener("close", () => done(false));
    document.body.appendChild(dialog);
    dialog.showModal();
    cancel.focus();
  });
}
