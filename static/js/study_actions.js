// A study's own actions on its page: cancel it whole (every queued run at once, none of them
// starts, and every running one: POST /api/studies/<id>/cancel) and delete it with its runs
// (DELETE /api/studies/<id>, once none is queued or running; asked once more on the button).

import { api } from "./api.js";
import { setText } from "./dom.js";
import { plural } from "./format.js";
import { armedButton } from "./armed.js";

export class StudyActions {
  // onCancelled(): the study changed (ask for it again); after deleting, the studies list opens.
  constructor({ studyId, cancelButton, deleteButton, status, onCancelled }) {
    this.studyId = studyId;
    this.cancelButton = cancelButton;
    this.deleteButton = deleteButton;
    this.status = status;
    cancelButton.addEventListener("click", () => this.cancel(onCancelled));
    armedButton(deleteButton, () => this.remove(), { armedText: "Confirm: delete the study and its runs" });
  }

  // What the study allows now: cancelling while runs are queued or running, deleting after.
  update(study) {
    const live = (study.runs || []).filter((r) => r.live).length;
    this.cancelButton.hidden = live === 0;
    this.cancelButton.textContent = live ? `Cancel the study (${plural(live, "run")} to go)` : "Cancel the study";
    this.deleteButton.disabled = live > 0;
    this.deleteButton.title = live > 0 ? "cancel the study first: its queued and running runs cannot be deleted"
      : "delete the study and every run of it";
  }

  async cancel(onCancelled) {
    this.cancelButton.disabled = true;
    try {
      const answer = await api.cancelStudy(this.studyId);
      this.say(`Cancelled ${plural(answer.cancelled.length, "run")} of the study.`);
      onCancelled();
    } catch (err) {
      this.say(`Could not cancel the study: ${err.message}`, true);
    } finally {
      this.cancelButton.disabled = false;
    }
  }

  async remove() {
    try {
      await api.removeStudy(this.studyId);
      this.say("Deleted. Opening the studies…");
      location.assign("/studies");
    } catch (err) {
      this.say(`Could not delete the study: ${err.message}`, true);
    }
  }

  say(text, isError = false) {
    setText(this.status, text);
    this.status.classList.toggle("error", isError);
  }
}
