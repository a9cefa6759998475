// Deleting asks once more on the button itself (no modal dialog): the first click arms it (its text
// says what a second click does), a second within 4 s does it, else it disarms.

export function armedButton(b, onConfirm, { armedText = "Confirm delete" } = {}) {
  const text = b.textContent;
  let armed = null;
  const disarm = () => {
    clearTimeout(armed);
    armed = null;
    b.textContent = text;
    b.classList.remove("armed");
  };
  b.addEventListener("click", async () => {
    if (!armed) {
      b.textContent = armedText;
      b.classList.add("armed");
      armed = setTimeout(disarm, 4000);
      return;
    }
    disarm();
    b.disabled = true;
    try {
      await onConfirm();
    } finally {
      b.disabled = false;
    }
  });
  return b;
}

